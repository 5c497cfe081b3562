"""Views of the core app, one module per area; each module defines `urlpatterns`."""
