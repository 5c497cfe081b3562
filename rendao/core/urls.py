from __future__ import annotations

from rendao.core.views import auth, branches, outbox, preferences, public, staff, tokens

app_name = "core"

# Each view module owns its URL patterns; names are unique across modules.
urlpatterns = [
    *public.urlpatterns,
    *auth.urlpatterns,
    *staff.urlpatterns,
    *outbox.urlpatterns,
    *branches.urlpatterns,
    *tokens.urlpatterns,
    *preferences.urlpatterns,
]
