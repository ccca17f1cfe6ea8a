"""Form plumbing shared by every app: accessible error messages."""


class DescribedFieldsMixin:
    """Point each field at its help text and error messages (aria-describedby) and mark fields
    with errors aria-invalid, so screen readers announce them. The ids are the ones that
    templates/includes/field.html renders: `<field id>_helptext` and `<field id>_error`."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._describe_fields()

    def full_clean(self):
        super().full_clean()
        self._describe_fields()

    def add_error(self, field, error):
        # Also when a view adds an error after validating (a mailing with nobody to send to).
        super().add_error(field, error)
        self._describe_fields()

    def _describe_fields(self):
        errors = getattr(self, "_errors", None) or {}
        for name, field in self.fields.items():
            field_id = self.auto_id % self.add_prefix(name) if self.auto_id else name
            ids = [f"{field_id}_helptext"] if field.help_text else []
            attrs = field.widget.attrs
            if errors.get(name):
                ids.append(f"{field_id}_error")
                attrs["aria-invalid"] = "true"
            else:
                attrs.pop("aria-invalid", None)
            if ids:
                attrs["aria-describedby"] = " ".join(ids)
            else:
                attrs.pop("aria-describedby", None)
