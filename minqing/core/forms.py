"""Small helpers every app's views share when they run a service for a form."""

import secrets
from contextlib import contextmanager

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied as Forbidden
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _


class PermissionDenied(Exception):
    """Raised by services when the actor's role does not allow the action (views answer 403)."""


NOT_SAVED = object()

ERR_REQUIRED = _("此项必填。")
ERR_TOO_LONG = _("不能超过 {n} 个字。")


def clean_text(data: dict, field: str, n: int, errors: dict, *, required: bool = False) -> str:
    """A service's text input, stripped: too long or missing (when required) is noted in
    errors under the field's name, so one ValidationError can carry every problem."""
    value = str(data.get(field) or "").strip()
    if len(value) > n:
        errors[field] = ERR_TOO_LONG.format(n=n)
    elif required and not value:
        errors[field] = ERR_REQUIRED
    return value


ERR_REASON = _("请写明更正或删除的原因。")


def reason_text(reason, *, n: int = 200) -> str:
    """The reason a record is corrected or deleted (kept in its audit entry): required."""
    reason = str(reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ERR_REASON})
    if len(reason) > n:
        raise ValidationError({"reason": ERR_TOO_LONG.format(n=n)})
    return reason


def apply_errors(form, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: on its field when the form has one, else
    at the top."""
    for name, errors in exc.message_dict.items():
        form.add_error(name if name in form.fields else None, errors)


def submitted(request, form, save, *, check=None):
    """Run `save` (a service call) for a valid POSTed form and return what it returns.

    The service's ValidationError goes onto the form and its PermissionDenied becomes a 403;
    anything short of success returns NOT_SAVED, and the view shows the form again.

    `check` (the service's own checks, writing nothing) is run on what the form could read
    even when the form has errors, so that all the errors show at once: fixing a date and
    sending again should not reveal a wrong unit only then. Its errors go on the fields
    without one already.
    """
    if request.method != "POST":
        return NOT_SAVED
    if not form.is_valid():
        if check is not None:
            try:
                check()
            except ValidationError as exc:
                for name, errors in exc.message_dict.items():
                    if name in form.fields and name not in form.errors:
                        form.add_error(name, errors)
            except PermissionDenied:
                pass  # said when the form is sent whole
        return NOT_SAVED
    try:
        return save()
    except ValidationError as exc:
        apply_errors(form, exc)
    except PermissionDenied as exc:
        raise Forbidden(str(exc)) from None
    return NOT_SAVED


# --- a form sent once --------------------------------------------------------------------------

ONCE_FIELD = "once"
ONCE_SECONDS = 24 * 3600  # how long a sent form remembers what it made
_IN_PROGRESS = ""


def once_token(request) -> str:
    """A token for a form that creates something (a case): the one it was sent with when the
    form is shown again with errors, else a new one. See once_done."""
    sent = str(request.POST.get(ONCE_FIELD, ""))[:40] if request.method == "POST" else ""
    return sent or secrets.token_urlsafe(12)


def _once_key(request) -> str | None:
    token = str(request.POST.get(ONCE_FIELD, ""))[:40]
    if not token:
        return None
    user = getattr(request, "user", None)
    return f"once:{getattr(user, 'pk', None) or 0}:{token}"


def once_done(request) -> str | None:
    """Where what this form created already is, if the same form was sent before: Back after
    sending brings the filled form back, and sending it again must not file it twice. Kept in
    the database cache, which every app server shares (not the session: two sendings at once
    both read a session that had nothing yet)."""
    key = _once_key(request)
    return (cache.get(key) or None) if key else None


def once_claim(request) -> bool:
    """Take the form's token for this sending, just before saving: False when another sending
    of it has it (sent twice at once, or already saved) — then nothing may be made. One
    INSERT on the cache table's key decides between sendings at once. The database cache
    answers False for its own errors too (a lock that timed out): with no key there, this
    sending goes on — better a rare second record than a lost one."""
    key = _once_key(request)
    if key is None or cache.add(key, _IN_PROGRESS, ONCE_SECONDS):
        return True
    return cache.get(key) is None


def once_release(request) -> None:
    """The save failed: the form may be sent again, corrected."""
    key = _once_key(request)
    if key:
        cache.delete(key)


@contextmanager
def once_saving(request):
    """Around a claimed save: any failure (a check of the service, a database error, a photo
    that could not be stored) frees the token — or the form, sent again, would be told it was
    filed and nothing would be."""
    try:
        yield
    except BaseException:
        once_release(request)
        raise


def once_remember(request, url: str) -> None:
    """What the sending made: where a later sending of the same form goes."""
    key = _once_key(request)
    if key:
        cache.set(key, url, ONCE_SECONDS)


def save_once(request, form, save, *, url, again, saved, fallback, refused=None):
    """Run `save` for a POSTed form that creates something, at most once per form shown.

    Back after saving brings the filled form again, and a double tap sends it twice at once:
    either way the later sending goes to what the first one made (`again` said), never a
    second record. Returns the redirect, or None when the form is to be shown again with its
    errors (the service's ValidationError is put on it). `url(obj)` is the made record's page,
    `saved` the success message (or a function of the record), `fallback` where to go when
    the first sending is still saving. The service's PermissionDenied is a 403, unless
    `refused(exc)` says otherwise (it may raise, or put the refusal on the form)."""
    done = once_done(request)
    if done is not None:
        messages.info(request, again)
        return redirect(done)
    if not form.is_valid():
        return None
    if not once_claim(request):  # the same form, sent again while the first one saves
        messages.info(request, again)
        return redirect(once_done(request) or fallback)
    try:
        with once_saving(request):
            obj = save()
    except ValidationError as exc:
        apply_errors(form, exc)
        return None
    except PermissionDenied as exc:
        if refused is None:
            raise Forbidden(str(exc)) from None
        refused(exc)
        return None
    messages.success(request, saved(obj) if callable(saved) else saved)
    where = url(obj)
    once_remember(request, where)
    return redirect(where)
