"""CKAN: status_show, the regencies' organizations, and whether the token may create datasets
in them."""

from __future__ import annotations

import json
from typing import Any

from serasan.admin.doctor.report import Check
from serasan.admin.doctor.scrub import Scrubber, reason
from serasan.config.settings import Settings, safe_url


def check_ckan(settings: Settings, catalog: Any, scrub: Scrubber, timeout: float) -> Check:
    if not settings.ckan_url:
        return Check(
            "ckan",
            "warn",
            "SERASAN_CKAN_URL is not set: exports stay in the lake "
            "(exports/<regency>/...) and nothing is published to a CKAN portal",
        )
    portal = safe_url(settings.ckan_url).rstrip("/")
    info: dict[str, Any] = {"portal": portal}
    if not settings.ckan_token:
        return Check(
            "ckan",
            "fail",
            f"SERASAN_CKAN_TOKEN is not set, so publishing to {portal} "
            "is refused: give the API token (or the serasan_ckan connection's "
            "password)",
            info,
        )
    import requests
    from ckanapi import RemoteCKAN
    from ckanapi.errors import CKANAPIError, NotAuthorized, NotFound

    ckan = RemoteCKAN(
        settings.ckan_url.rstrip("/"), apikey=settings.ckan_token, session=requests.Session()
    )
    orgs = (
        sorted({r.ckan_org for r in catalog.regencies.values() if r.ckan_org})
        if catalog is not None
        else []
    )
    action = "status_show"
    try:
        status = ckan.call_action("status_show", {}, requests_kwargs={"timeout": timeout})
        info["ckan_version"] = status.get("ckan_version") if isinstance(status, dict) else None
        if catalog is None:
            return Check(
                "ckan",
                "warn",
                f"CKAN {info['ckan_version']} answers at {portal}; "
                "organizations not checked because the catalog does not load",
                info,
            )
        action = "organization_list"
        found = set(
            ckan.call_action(
                "organization_list", {"organizations": orgs}, requests_kwargs={"timeout": timeout}
            )
            or []
        )
        action = "organization_list_for_user"
        mine = (
            ckan.call_action(
                "organization_list_for_user",
                {"permission": "create_dataset"},
                requests_kwargs={"timeout": timeout},
            )
            or []
        )
    except NotAuthorized as exc:
        return Check(
            "ckan",
            "fail",
            f"CKAN at {portal} rejected the token on {action} "
            f"({scrub(_ckan_message(exc))}): set a valid SERASAN_CKAN_TOKEN (or the "
            "serasan_ckan connection's password)",
            info,
        )
    except NotFound:
        return Check(
            "ckan",
            "fail",
            f"{portal} has no CKAN action API ({action} not found): "
            "SERASAN_CKAN_URL must be the portal's base URL",
            info,
        )
    except requests.RequestException as exc:
        return Check(
            "ckan",
            "fail",
            f"cannot reach CKAN at {portal} ({scrub(reason(exc))}): "
            "exports stay in the lake and publications stay pending until it answers; "
            "check SERASAN_CKAN_URL",
            info,
        )
    except CKANAPIError as exc:
        return Check(
            "ckan",
            "fail",
            f"CKAN at {portal} failed {action} "
            f"({scrub(_ckan_message(exc))}): check SERASAN_CKAN_URL and the portal",
            info,
        )
    names = {o.get("name") if isinstance(o, dict) else o for o in mine}
    info.update(
        {
            "organizations": orgs,
            "missing": sorted(set(orgs) - found),
            "not_editor": sorted(set(orgs) - names),
        }
    )
    unset = sorted(r.slug for r in catalog.regencies.values() if not r.ckan_org)
    if unset:
        return Check(
            "ckan",
            "fail",
            f"regency {', '.join(unset)} has no ckan_org in the "
            "catalog, so its datasets cannot be published: add it to "
            "catalog/regencies/",
            info,
        )
    if info["missing"]:
        return Check(
            "ckan",
            "fail",
            f"organization(s) {', '.join(info['missing'])} do not exist "
            f"on {portal}: create them there, or fix ckan_org in catalog/regencies/",
            info,
        )
    if info["not_editor"]:
        return Check(
            "ckan",
            "fail",
            f"the token's user may not create datasets in "
            f"{', '.join(info['not_editor'])} on {portal}: make it an editor of "
            "them (or the token is not valid and CKAN treats it as anonymous)",
            info,
        )
    return Check(
        "ckan",
        "ok",
        f"CKAN {info['ckan_version']} at {portal}: the token may publish into {', '.join(orgs)}",
        info,
    )


def _ckan_message(exc: BaseException) -> str:
    arg = exc.args[0] if exc.args else exc
    if isinstance(arg, dict):
        arg = arg.get("message") or arg.get("__type") or json.dumps(arg)[:200]
    return str(arg).splitlines()[0][:300] if str(arg) else type(exc).__name__
