"""Flask extensions, created without an app and bound in ``create_app``."""
from flask_login import LoginManager
from flask_migrate import Migrate
from apispec.ext.marshmallow import MarshmallowPlugin
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
def _schema_name(schema) -> str:
    """OpenAPI component names: ``RoomSchema`` -> ``Room``, partial -> ``RoomUpdate``."""
    cls = schema if isinstance(schema, type) else type(schema)
    name = cls.__name__.removesuffix("Schema")
    if not isinstance(schema, type) and schema.partial:
        name += "Update"
    return name


api = Api(spec_kwargs={"marshmallow_plugin": MarshmallowPlugin(schema_name_resolver=_schema_name)})
