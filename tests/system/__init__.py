"""System tier: the compose stack, the Celery stack, headless Chromium; marked `system`."""
