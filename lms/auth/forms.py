"""Login and password forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import Form, HiddenField, PasswordField, ValidationError
from wtforms.fields import Field
from wtforms.validators import EqualTo, InputRequired, Length

from lms.auth.passwords import MAX_LENGTH
from lms.forms import BaseForm, EmailInput, NoControlCharacters, email_rules, required

_REQUIRED = _l("This field is required.")


def _password_rules() -> list[object]:
    return [
        InputRequired(message=_REQUIRED),
        Length(max=MAX_LENGTH, message=_l("Use at most %(max)d characters.", max=MAX_LENGTH)),
        NoControlCharacters(),
    ]


class LoginForm(BaseForm):
    email = EmailInput(_l("Email address"), [required(), *email_rules()])
    password = PasswordField(_l("Password"), _password_rules(), render_kw={"autocomplete": "current-password"})
    next = HiddenField()


class _NewPasswordMixin:
    new_password = PasswordField(
        _l("New password"),
        _password_rules(),
        description=_l("At least 12 characters. A phrase of several words is easy to remember."),
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        [InputRequired(message=_REQUIRED), EqualTo("new_password", message=_l("The passwords do not match."))],
        render_kw={"autocomplete": "new-password"},
    )


class ChangePasswordForm(_NewPasswordMixin, BaseForm):
    current_password = PasswordField(
        _l("Current password"), _password_rules(), render_kw={"autocomplete": "current-password"}
    )

    def validate_new_password(self, field: Field) -> None:
        if field.data and field.data == self.current_password.data:
            raise ValidationError(_l("Choose a password different from the current one."))


class SetPasswordForm(_NewPasswordMixin, BaseForm):
    """Setting a password from an invitation or reset link."""


def add_policy_errors(form: Form, field_name: str, problems: list[str]) -> bool:
    """Attach password-policy problems to a field; ``True`` when there were none."""
    if problems:
        getattr(form, field_name).errors = [*getattr(form, field_name).errors, *problems]
    return not problems
