from django import forms


class ContactForm(forms.Form):
    name = forms.CharField(max_length=120, label="Your name")
    email = forms.EmailField(max_length=254, label="Email address")
    phone = forms.CharField(
        max_length=30,
        required=False,
        label="Phone (optional)",
        help_text="Only if you would like us to call you back.",
    )
    message = forms.CharField(
        max_length=5000,
        min_length=5,
        widget=forms.Textarea(attrs={"rows": 6}),
        label="Your message",
        help_text="Please don't include anything you would not want in an email.",
    )
    # Honeypot: hidden from people by CSS and from screen readers; bots fill it in.
    website = forms.CharField(required=False, label="Leave this empty")

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        if phone and sum(ch.isdigit() for ch in phone) < 7:
            raise forms.ValidationError("Enter a phone number with at least 7 digits, or leave it empty.")
        if any(ch not in "0123456789+-() ." for ch in phone):
            raise forms.ValidationError("A phone number may contain digits, spaces, + - ( ) and dots only.")
        return phone

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Please tell us your name.")
        return name


class ContactStatusForm(forms.Form):
    status = forms.ChoiceField(choices=[("answered", "Answered"), ("closed", "Closed"), ("new", "New")])
