"""The OpenAPI document at /api/openapi.json: valid OpenAPI 3, complete, and
true to what the API really answers."""
from __future__ import annotations

import re

import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from practice.api.schemas import ClientSchema, ClinicianSchema, RoomSchema


@pytest.fixture
def doc(client):
    r = client.get("/api/openapi.json")  # no token: the document is public
    assert r.status_code == 200
    assert r.mimetype == "application/json"
    return r.json


def conforms(doc: dict, component: str, instance) -> None:
    """Validate ``instance`` against ``#/components/schemas/<component>``."""
    schema = {"$ref": f"#/components/schemas/{component}", "components": doc["components"]}
    OAS30Validator(schema).validate(instance)


def api_routes(app) -> list[tuple[str, str]]:
    out = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or rule.rule == "/api/openapi.json":
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        out.extend((path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"})
    return sorted(out)


def test_document_is_valid_openapi_3(doc):
    assert doc["openapi"].startswith("3.")
    validate(doc)  # raises on any error


def test_bearer_security_scheme_applies_to_the_api(doc):
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer"}
    assert doc["security"] == [{"bearerAuth": []}]
    # the one way in needs no token
    assert doc["paths"]["/api/tokens"]["post"]["security"] == []


def test_every_api_route_is_documented(app, doc):
    routes = api_routes(app)
    assert ("/api/clinicians", "post") in routes  # the walk found the app's routes
    missing = [(p, m) for p, m in routes if m not in doc["paths"].get(p, {})]
    assert missing == []


@pytest.mark.parametrize("path, method", [
    ("/api/clinicians", "get"), ("/api/clinicians", "post"),
    ("/api/clinicians/{clinician_id}", "get"), ("/api/clinicians/{clinician_id}", "patch"),
    ("/api/clinicians/{clinician_id}/absences", "get"),
    ("/api/clinicians/{clinician_id}/absences", "post"),
    ("/api/clinicians/{clinician_id}/absences/{absence_id}", "delete"),
    ("/api/rooms", "get"), ("/api/rooms", "post"),
    ("/api/rooms/{room_id}", "get"), ("/api/rooms/{room_id}", "patch"),
    ("/api/sites", "get"), ("/api/sites", "post"),
    ("/api/clients", "get"), ("/api/clients", "post"),
    ("/api/clients/{client_id}", "get"), ("/api/clients/{client_id}", "patch"),
    ("/api/closures", "get"), ("/api/closures", "post"), ("/api/closures/{closure_id}", "delete"),
    ("/api/tokens", "post"), ("/api/audit", "get"),
])
def test_foundation_routes_are_documented(doc, path, method):
    op = doc["paths"][path][method]
    assert op.get("summary"), "the view's docstring becomes the summary"
    params = [p for item in (doc["paths"][path].get("parameters", []), op.get("parameters", []))
              for p in item]
    for name in re.findall(r"{(\w+)}", path):
        [param] = [p for p in params if p["name"] == name and p["in"] == "path"]
        assert param["schema"]["type"] == "integer"
    if method in ("post", "patch"):
        assert "application/json" in op["requestBody"]["content"]
    if method == "get" and "{" not in path.rsplit("/", 1)[-1] and path != "/api/audit":
        names = {p["name"] for p in params if p["in"] == "query"}
        assert {"limit", "offset"} <= names


def test_request_schemas_are_the_validating_ones(doc):
    """Declared once: the document lists exactly the fields the API accepts."""
    comps = doc["components"]["schemas"]
    for name, schema in (("Clinician", ClinicianSchema), ("Room", RoomSchema),
                         ("Client", ClientSchema)):
        assert set(comps[name]["properties"]) == set(schema().fields), name
        required = {n for n, f in schema().fields.items() if f.required}
        assert set(comps[name].get("required", [])) == required
    # a PATCH takes the same fields, none required
    assert set(comps["ClinicianUpdate"]["properties"]) == set(comps["Clinician"]["properties"])
    assert not comps["ClinicianUpdate"].get("required")
    hours = comps["WorkingHours"]
    assert set(hours["required"]) == {"weekday", "start", "end"}
    assert hours["properties"]["start"]["type"] == "string"
    assert hours["properties"]["weekday"]["minimum"] == 0
    assert hours["properties"]["weekday"]["maximum"] == 6


def test_real_answers_conform_to_the_document(doc, admin_api, make_clinician, make_room):
    make_clinician(), make_room()
    admin_api.post("/api/clients", json={"name": "Doc Client", "date_of_birth": "1980-01-31"})
    admin_api.post("/api/closures", json={"date": "2026-12-25", "reason": "Closed"})
    for url, component in (("/api/clinicians", "ClinicianList"), ("/api/rooms", "RoomList"),
                           ("/api/clients", "ClientList"), ("/api/closures", "ClosureList"),
                           ("/api/sites", "SiteList"), ("/api/audit", "AuditList")):
        r = admin_api.get(url)
        assert r.status_code == 200
        conforms(doc, component, r.json)


@pytest.mark.parametrize("method, url, kw", [
    ("post", "/api/clinicians", {"json": {"name": 1}}),                      # 422
    ("post", "/api/clinicians", {"data": "{", "content_type": "application/json"}),  # 400
    ("get", "/api/clinicians/999", {}),                                     # 404
    ("put", "/api/clinicians/1", {}),                                       # 405
    ("post", "/api/clients", {"data": "x", "content_type": "text/plain"}),  # 415
])
def test_error_answers_conform_to_the_documented_error(doc, admin_api, method, url, kw):
    r = getattr(admin_api, method)(url, **kw)
    assert r.status_code >= 400
    conforms(doc, "Error", r.json)
    op = doc["paths"]["/api/clinicians"]["post"]
    assert op["responses"]["default"] == {"$ref": "#/components/responses/DEFAULT_ERROR"}


def test_unauthenticated_error_conforms(doc, anon_api):
    r = anon_api.get("/api/rooms")
    assert r.status_code == 401
    conforms(doc, "Error", r.json)
