//! JWT encoding and verification. HS256 tokens are signed with the
//! configured secret; RS256 tokens (from a platform identity service) are
//! verified with an optional public key. Nothing else is accepted.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::ExposeSecret as _;
use serde::{Deserialize, Serialize};

use super::{AuthError, Role};
use crate::config::AuthKeys;

/// The claims brand-gateway reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Claims {
    /// Holder.
    pub sub: String,
    /// Credential id.
    pub jti: String,
    /// Granted role.
    pub role: Role,
    /// Brand, for brand roles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand: Option<i64>,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Expiry (seconds since the epoch).
    pub exp: i64,
}

/// Who signed a verified token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signer {
    /// This gateway (HS256): backed by a credential row that can be revoked.
    Gateway,
    /// The platform identity service (RS256): trusted on its signature and
    /// expiry alone; revocation is the issuer's job (short-lived tokens).
    IdentityService,
}

/// Prepared keys; built once per application.
#[derive(Clone)]
pub struct TokenKeys {
    hs256_encoding: EncodingKey,
    hs256_decoding: DecodingKey,
    rs256_decoding: Option<DecodingKey>,
}

impl TokenKeys {
    /// Prepares the keys; fails on an unreadable RS256 public key.
    pub fn new(keys: &AuthKeys) -> Result<Self, jsonwebtoken::errors::Error> {
        Ok(Self {
            hs256_encoding: EncodingKey::from_secret(keys.hs256_secret.expose_secret()),
            hs256_decoding: DecodingKey::from_secret(keys.hs256_secret.expose_secret()),
            rs256_decoding: keys
                .rs256_public_key_pem
                .as_deref()
                .map(DecodingKey::from_rsa_pem)
                .transpose()?,
        })
    }

    pub(crate) fn encode(&self, claims: &Claims) -> Result<String, jsonwebtoken::errors::Error> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.hs256_encoding)
    }

    /// Verifies signature and expiry, and says who signed the token.
    pub(crate) fn decode(&self, token: &str) -> Result<(Claims, Signer), AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::MalformedToken)?;
        let (key, signer) = match header.alg {
            Algorithm::HS256 => (&self.hs256_decoding, Signer::Gateway),
            Algorithm::RS256 => (
                self.rs256_decoding.as_ref().ok_or(AuthError::ForgedToken)?,
                Signer::IdentityService,
            ),
            _ => return Err(AuthError::ForgedToken),
        };
        let mut validation = Validation::new(header.alg);
        validation.leeway = 30;
        validation.set_required_spec_claims(&["exp", "sub", "jti"]);
        jsonwebtoken::decode::<Claims>(token, key, &validation)
            .map(|data| (data.claims, signer))
            .map_err(|error| {
                use jsonwebtoken::errors::ErrorKind;
                match error.kind() {
                    ErrorKind::ExpiredSignature => AuthError::Expired,
                    ErrorKind::InvalidSignature
                    | ErrorKind::InvalidAlgorithm
                    | ErrorKind::InvalidAlgorithmName
                    | ErrorKind::InvalidKeyFormat => AuthError::ForgedToken,
                    _ => AuthError::MalformedToken,
                }
            })
    }
}
