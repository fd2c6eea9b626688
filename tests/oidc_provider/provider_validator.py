"""ProConnect's claims and acr, and the userinfo as a signed JWT (ProConnect signs its userinfo)."""

from django.conf import settings
from jwcrypto import jwk, jwt
from oauth2_provider.oauth2_validators import OAuth2Validator


class ProConnectLikeValidator(OAuth2Validator):
    oidc_claim_scope = None  # every claim below, whatever the scopes (ProConnect's are all asked for)

    def get_additional_claims(self, request):
        user = settings.CONFIG_USERS[request.user.username]
        return {
            "email": user["email"], "given_name": user["given_name"], "usual_name": user["usual_name"],
            "uid": f"uid-{request.user.pk}", "siret": user["siret"], "idp_id": user["idp_id"],
            "acr": settings.CONFIG["acr"],
        }

    def get_userinfo_claims(self, request):
        claims = super().get_userinfo_claims(request)
        claims.pop("acr", None)  # ProConnect puts acr in the ID token only
        claims.update(iss=settings.ISSUER, aud=request.client_id)
        key = jwk.JWK.from_pem(settings.OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"].encode())
        token = jwt.JWT(header={"alg": "RS256", "kid": key.thumbprint()}, claims=claims)
        token.make_signed_token(key)
        return token.serialize()  # oauthlib answers a str as application/jwt
