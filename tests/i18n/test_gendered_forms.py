"""Gender-sensitive language: a woman's and a man's role, category and certificate verb take
their own form in the languages that mark gender; the paired form when sex is not recorded."""

from __future__ import annotations

from datetime import date

import pytest
from flask_babel import force_locale

from lms.certificates.labels import printed_texts
from lms.i18n import babel_locale, category_label, role_label
from lms.models import AchievementKind, Category, Role, Sex

# The languages of the region that mark gender on these words (Albanian does not).
MARKED = ["bs", "cnr", "hr", "mk", "sr-Latn", "sr-Cyrl"]
CONTEXT = {"start_date": date(2026, 3, 2), "end_date": date(2026, 3, 4), "minutes": 180, "issued_on": date(2026, 3, 5)}


@pytest.mark.parametrize("language", MARKED)
def test_the_certificate_says_completed_in_the_holders_gender(app, language: str) -> None:
    with app.test_request_context():
        forms = {
            sex: printed_texts(language, AchievementKind.COURSE, {**CONTEXT, "valid_until": None, "sex": sex})[
                "completed"
            ]
            for sex in Sex
        }
    paired = forms[Sex.NOT_RECORDED]
    assert forms[Sex.FEMALE] != forms[Sex.MALE], forms
    assert "/" in paired and "/" not in forms[Sex.FEMALE] and "/" not in forms[Sex.MALE], forms
    assert "completed" not in " ".join(forms.values())  # translated, not English


@pytest.mark.parametrize("language", MARKED)
def test_roles_and_categories_take_the_persons_gender(app, language: str) -> None:
    with app.test_request_context(), force_locale(babel_locale(language)):
        for role in (Role.COORDINATOR, Role.TRAINER, Role.COACH, Role.TRAINEE):
            woman, man, anyone = (role_label(role, sex) for sex in (Sex.FEMALE, Sex.MALE, Sex.NOT_RECORDED))
            assert woman != man and anyone not in (woman, man), (role, woman, man, anyone)
        for category in (Category.CADET, Category.COMMANDER):
            woman, man = category_label(category, Sex.FEMALE), category_label(category, Sex.MALE)
            assert woman != man, (category, woman, man)
