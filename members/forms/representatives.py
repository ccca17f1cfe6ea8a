"""Appointing a representative by choosing a person, with no address to type."""

from django import forms

from alc_portal.forms import DescribedFieldsMixin
from members.access import representative_candidates


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, person):
        council = person.councillor.council
        return f"{person.full_name or person.email}, {council.short_name or council.name}"


class RepresentativeChooseForm(DescribedFieldsMixin, forms.Form):
    person = PersonChoiceField(
        label="Who to appoint",
        queryset=None,
        empty_label="Choose a councillor",
        help_text="Councillors of this region who have an account on the portal.",
        error_messages={
            "required": "Choose who to appoint.",
            "invalid_choice": "Choose someone from the list: that person can no longer be "
            "appointed here.",
        },
    )

    def __init__(self, *args, user, region, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = representative_candidates(user, region)

    @property
    def has_candidates(self) -> bool:
        return self.fields["person"].queryset.exists()
