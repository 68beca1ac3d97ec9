from django.contrib import admin

from clinic.accounts.models import Licence, User


class LicenceInline(admin.TabularInline):
    model = Licence
    fk_name = "clinician"
    extra = 0
    fields = ["jurisdiction", "number", "expires_on", "verified_by", "verified_at"]


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ["email", "display_name", "role", "time_zone", "is_active"]
    list_filter = ["role", "is_active"]
    search_fields = ["email", "display_name"]
    fields = [
        "email",
        "display_name",
        "role",
        "time_zone",
        "is_active",
        "is_staff",
        "groups",
        "user_permissions",
    ]
    inlines = [LicenceInline]
