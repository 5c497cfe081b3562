from __future__ import annotations

from django.conf import settings
from django.core.checks import CheckMessage, Error

from rendao.core.channels import channel_routes
from rendao.core.channels.http import is_http_url


def check_settings() -> list[CheckMessage]:
    """Keys, signature and templates Alibaba Cloud SMS cannot send without."""
    from rendao.core.messages import TemplateError, provider_templates  # the registry imports models

    errors: list[CheckMessage] = []
    required = [
        ("RENDAO_ALIYUN_SMS_ACCESS_KEY_ID", settings.ALIYUN_SMS_ACCESS_KEY_ID, "rendao.E121"),
        ("RENDAO_ALIYUN_SMS_ACCESS_KEY_SECRET", settings.ALIYUN_SMS_ACCESS_KEY_SECRET, "rendao.E122"),
        ("RENDAO_ALIYUN_SMS_SIGN_NAME", settings.ALIYUN_SMS_SIGN_NAME, "rendao.E123"),
    ]
    for variable, value, check_id in required:
        if not value:
            errors.append(
                Error(
                    f"The aliyun_sms channel is in use but {variable} is empty.",
                    hint="Fill it in from the Alibaba Cloud SMS console, or route sms elsewhere.",
                    id=check_id,
                )
            )
    if not is_http_url(settings.ALIYUN_SMS_ENDPOINT):
        errors.append(
            Error(
                "RENDAO_ALIYUN_SMS_ENDPOINT is not an http(s) URL.",
                hint="The default is https://dysmsapi.aliyuncs.com/.",
                id="rendao.E124",
            )
        )
    try:
        templates = provider_templates(settings.ALIYUN_SMS_TEMPLATES, "RENDAO_ALIYUN_SMS_TEMPLATES")
    except TemplateError as exc:
        errors.append(Error(f"{exc}.", hint="Use kind:TemplateCode[:var=placeholder|…].", id="rendao.E125"))
        return errors
    # The SMS sign-in depends on it: without a template nobody can sign in.
    if channel_routes().get("sms") == "aliyun_sms" and "signin_code" not in templates:
        errors.append(
            Error(
                "SMS goes through aliyun_sms but RENDAO_ALIYUN_SMS_TEMPLATES has no signin_code template.",
                hint="Add signin_code:SMS_… with the code of the approved verification-code template.",
                id="rendao.E126",
            )
        )
    return errors
