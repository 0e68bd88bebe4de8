"""WSGI entry point: ``flask --app wsgi ...`` and ``gunicorn wsgi:app``."""
from practice import create_app

app = create_app()
