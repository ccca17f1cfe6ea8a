"""Signal receivers that keep a person's account and history complete."""

from allauth.account.models import EmailAddress
from allauth.account.signals import password_reset
from allauth.mfa.models import Authenticator
from allauth.mfa.signals import authenticator_added, authenticator_removed, authenticator_reset
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import m2m_changed
from django.dispatch import receiver

from members.middleware import session_start
from members.models import User
from members.services.accounts import sessions_end_others, two_factor_record_enrolment


@receiver(user_logged_in, dispatch_uid="members-session-start")
def _session_start(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        session_start(request)


@receiver(authenticator_added, dispatch_uid="members-two-factor-added")
def _two_factor_added(sender, request, user, authenticator, **kwargs):
    sessions_end_others(request=request, user=user)
    if authenticator.type == Authenticator.Type.TOTP and request is not None:
        two_factor_record_enrolment(request=request, user=user, authenticator=authenticator)


@receiver(authenticator_removed, dispatch_uid="members-two-factor-removed")
@receiver(authenticator_reset, dispatch_uid="members-two-factor-reset")
def _two_factor_changed(sender, request, user, **kwargs):
    """A changed second factor ends the person's other sessions (a changed password does too:
    Django's session hash includes it)."""
    sessions_end_others(request=request, user=user)


@receiver(password_reset, dispatch_uid="members-verify-address-on-reset")
def _verify_address_on_reset(sender, request, user, **kwargs):
    """A completed password reset proves the address its link was emailed to. For someone who
    has never logged in (their invitation still pending) that is the one address they have, so
    it is marked verified and they can log in (the portal requires a verified address)."""
    if user.last_login is not None:
        return
    address = EmailAddress.objects.filter(user=user, email__iexact=user.email).first()
    if address is not None and not address.verified:
        address.verified = True
        address.save(update_fields=["verified"])


def _record_grants(*, user_ids, reason: str) -> None:
    users = list(User.objects.filter(pk__in=user_ids))
    for user in users:
        user._change_reason = reason
    User.history.bulk_history_create(users, update=True)


def _names(model, pks) -> str:
    if model is Group:
        names = Group.objects.filter(pk__in=pks).values_list("name", flat=True)
    else:
        names = Permission.objects.filter(pk__in=pks).values_list("codename", flat=True)
    return ", ".join(sorted(names))


@receiver(m2m_changed, sender=User.groups.through, dispatch_uid="members-history-groups")
@receiver(m2m_changed, sender=User.user_permissions.through, dispatch_uid="members-history-perms")
def _record_permission_changes(sender, instance, action, reverse, model, pk_set, **kwargs):
    """Grants and removals of permission groups and permissions go into the person's account
    history, with who made them (the request's user, through simple-history's middleware)."""
    kind = "Permission group" if sender is User.groups.through else "Permission"
    if action == "pre_clear":
        # What a clear removes is known only before it happens.
        if not reverse:
            field = "groups" if sender is User.groups.through else "user_permissions"
            pks = set(getattr(instance, field).values_list("pk", flat=True))
            if pks:
                _record_grants(
                    user_ids=[instance.pk], reason=f"{kind} removed: {_names(model, pks)}"
                )
        else:
            users = set(instance.user_set.values_list("pk", flat=True))
            if users:
                _record_grants(user_ids=users, reason=f"{kind} removed: {_label(instance)}")
        return
    if action not in ("post_add", "post_remove") or not pk_set:
        return
    verb = "granted" if action == "post_add" else "removed"
    if reverse:
        # group.user_set.add(...): the instance is the group or permission, pk_set the people.
        _record_grants(user_ids=pk_set, reason=f"{kind} {verb}: {_label(instance)}")
    else:
        _record_grants(user_ids=[instance.pk], reason=f"{kind} {verb}: {_names(model, pk_set)}")


def _label(obj) -> str:
    return obj.name if isinstance(obj, Group) else obj.codename
