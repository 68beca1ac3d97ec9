from django import forms

from clinic import dates
from clinic.audit.models import Action


class AuditFilterForm(forms.Form):
    actor = forms.CharField(required=False, label="Who (email contains)")
    action = forms.ChoiceField(required=False, choices=[("", "Any action"), *Action.choices])
    patient = forms.UUIDField(required=False, label="Patient id")
    subject = forms.CharField(required=False, max_length=64, label="Subject id")
    since = dates.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    until = dates.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
