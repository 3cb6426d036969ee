"""The emails' wording: jinja2 templates, one per email, named for audience and purpose."""
from pathlib import Path

TEMPLATE_DIR = Path(__file__).resolve().parent
