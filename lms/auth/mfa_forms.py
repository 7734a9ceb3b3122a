"""Forms of multi-factor sign-in: the code at sign-in and the codes on the set-up pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import Length

from lms.forms import BaseForm, NoControlCharacters, required

# Long enough for a recovery code typed with spaces or dashes; anything longer is not a code.
_CODE_MAX = 40


def _code_field(label: object, description: object) -> StringField:
    return StringField(
        label,
        [required(), Length(max=_CODE_MAX, message=_l("This is not a code.")), NoControlCharacters()],
        description=description,
        render_kw={"autocomplete": "one-time-code", "autocapitalize": "none", "spellcheck": "false"},
    )


class ChallengeForm(BaseForm):
    """The second step of signing in."""

    code = _code_field(
        _l("Code"),
        _l("The 6-digit code your authenticator app shows now, or one of your recovery codes."),
    )
    # Its hint, with the number of days from the configuration, is set by the view.
    remember = BooleanField(_l("Do not ask again on this device"))


class AppCodeForm(BaseForm):
    """A current code from the authenticator app: to confirm the set-up or renew recovery codes."""

    code = _code_field(_l("Code from the app"), _l("The 6-digit code your authenticator app shows now."))


class DisableForm(BaseForm):
    code = _code_field(_l("Code"), _l("The 6-digit code your authenticator app shows now, or a recovery code."))


class ConfirmSetupForm(AppCodeForm):
    """Turning the second factor on asks for the password too: a session left open must
    not be enough to tie the account to someone else's phone."""

    password = PasswordField(_l("Your password"), [required()], render_kw={"autocomplete": "current-password"})
