"""Flask extensions, created unbound and initialised in create_app()."""
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from .models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
mail = Mail()
csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()
# Storage from RATELIMIT_STORAGE_URI: memory:// for one process, redis://… when several
# app processes must share the counts.
limiter = Limiter(key_func=get_remote_address)
