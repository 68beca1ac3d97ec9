from django.contrib import admin

from clinic.content.models import CrisisLine


@admin.register(CrisisLine)
class CrisisLineAdmin(admin.ModelAdmin):
    list_display = ["country", "name", "number", "how", "is_emergency", "order"]
    list_filter = ["country"]
    list_editable = ["order"]
