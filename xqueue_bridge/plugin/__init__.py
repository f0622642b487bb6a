"""
The bridge inside an Open edX LMS (an edx-django-utils plugin app): its settings for each settings type,
its URLs under PLUGIN_URL_PREFIX, and the LMS's own receivers of the score event as receiving ends.
"""
