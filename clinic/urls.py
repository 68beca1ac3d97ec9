from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from clinic.api.api import api
from clinic.views import favicon

handler400 = "clinic.views.bad_request"

admin.site.site_header = f"{settings.CLINIC_NAME} administration"
# The admin signs in through allauth, so MFA and the sign-in rate limits apply there too.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

urlpatterns = [
    path("", include("clinic.content.urls")),
    path("", include("clinic.accounts.urls")),
    path("", include("clinic.portal.urls")),
    path("", include("clinic.scheduling.urls")),
    path("", include("clinic.intake.urls")),
    path("", include("clinic.visits.urls")),
    path("", include("clinic.measures.urls")),
    path("", include("clinic.register.urls")),
    path("", include("clinic.care.urls")),
    path("", include("clinic.outcomes.urls")),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("favicon.ico", favicon),
]
