from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _national_staff_permissions_sync(sender, **kwargs):
    """After every migrate (when new models may have brought new permissions), give national
    staff the admin permissions of the portal's models, including staff appointed earlier."""
    from members.models import StaffRole
    from members.services.staff import NATIONAL_STAFF_APPS, national_staff_group_sync

    if sender.label not in NATIONAL_STAFF_APPS:
        return

    group = national_staff_group_sync()
    group.user_set.add(*StaffRole.objects.values_list("user_id", flat=True))


class MembersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "members"

    def ready(self):
        from members import receivers  # noqa: F401  (connects the receivers)

        # Sent once per app: the last of the portal's apps brings the last permissions.
        post_migrate.connect(_national_staff_permissions_sync, dispatch_uid="national-staff-perms")
