package dev.txkv.server.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import java.text.ParseException;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Tokens: JSON Web Tokens signed with ES256 (nimbus-jose-jwt) by the cluster's key, which lives
 * with the users in the replicated keyspace, so any member verifies what any member issued.
 * Claims: {@code sub} (the user), {@code aud} ({@value #AUDIENCE}), {@code iat}, {@code nbf},
 * {@code exp} (10 minutes on), {@code jti} and {@code epoch} (the user's: a token from before a
 * change of the user's password, or of a user deleted and made again, is refused). Only ES256
 * with the cluster key's id is accepted: {@code alg: none}, HS256 and any other key fail.
 * Verified tokens are cached, so a request costs a map lookup, not a signature check.
 */
final class Tokens {
    static final String AUDIENCE = "txkv";
    static final long TTL_MS = 10 * 60_000L;
    static final long SKEW_MS = 60_000L;
    static final int MAX_CHARS = 8 << 10;
    private static final int CACHE_MAX = 10_000;

    /** A verified token: whose it is, the user's epoch it carries, until when it is good. */
    record Verified(String user, long epoch, long expiresMs, String keyId) {
    }

    private final Map<String, Verified> cache = new ConcurrentHashMap<>();

    static ECKey newSigningKey() {
        try {
            return new ECKeyGenerator(Curve.P_256).keyIDFromThumbprint(true).generate();
        } catch (JOSEException e) {
            throw new IllegalStateException("Cannot make an EC P-256 key", e);
        }
    }

    static String issue(ECKey key, String user, long epoch, long nowMs) {
        JWTClaimsSet claims = new JWTClaimsSet.Builder().subject(user).audience(AUDIENCE).issueTime(new Date(nowMs))
                .notBeforeTime(new Date(nowMs)).expirationTime(new Date(nowMs + TTL_MS))
                .jwtID(UUID.randomUUID().toString()).claim("epoch", epoch).build();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(key.getKeyID()).build(), claims);
        try {
            jwt.sign(new ECDSASigner(key));
        } catch (JOSEException e) {
            throw new IllegalStateException("Cannot sign a token", e);
        }
        return jwt.serialize();
    }

    /**
     * The user of {@code token} if it is valid now under {@code state}; else
     * authorization_token_verify_failed (6003) saying why.
     */
    String verify(String token, AuthState state, long nowMs) {
        ECKey key = state.signingKey();
        Verified v = cache.get(token);
        if (v == null || key == null || !v.keyId().equals(key.getKeyID())) {
            v = verifySignature(token, key, nowMs);
            if (cache.size() >= CACHE_MAX) {
                cache.clear();
            }
            cache.put(token, v);
        }
        if (nowMs > v.expiresMs() + SKEW_MS) {
            cache.remove(token);
            throw bad("it expired");
        }
        Long epoch = state.userEpoch(v.user());
        if (epoch == null || epoch != v.epoch()) {
            throw bad(epoch == null ? "its user no longer exists" : "its user's password changed since it was issued");
        }
        return v.user();
    }

    private static Verified verifySignature(String token, ECKey key, long nowMs) {
        if (token.length() > MAX_CHARS) {
            throw bad("it is longer than " + MAX_CHARS + " characters");
        }
        if (key == null) {
            throw bad("this cluster issues no tokens yet");
        }
        SignedJWT jwt;
        try {
            jwt = SignedJWT.parse(token);
        } catch (ParseException e) {
            throw bad("it is not a signed JSON Web Token");
        }
        JWSHeader header = jwt.getHeader();
        if (!JWSAlgorithm.ES256.equals(header.getAlgorithm())) {
            throw bad("its algorithm is " + header.getAlgorithm() + ", not ES256");
        }
        if (!key.getKeyID().equals(header.getKeyID())) {
            throw bad("it was not signed by this cluster's key");
        }
        try {
            if (!jwt.verify(new ECDSAVerifier(key.toPublicJWK()))) {
                throw bad("its signature does not match");
            }
            JWTClaimsSet claims = jwt.getJWTClaimsSet();
            List<String> audience = claims.getAudience();
            if (audience == null || !audience.contains(AUDIENCE)) {
                throw bad("its audience is not " + AUDIENCE);
            }
            Date exp = claims.getExpirationTime();
            Date nbf = claims.getNotBeforeTime();
            Object epoch = claims.getClaim("epoch");
            if (exp == null || claims.getSubject() == null || !(epoch instanceof Number)) {
                throw bad("it lacks exp, sub or epoch");
            }
            if (nbf != null && nbf.getTime() > nowMs + SKEW_MS) {
                throw bad("it is not valid yet");
            }
            return new Verified(claims.getSubject(), ((Number) epoch).longValue(), exp.getTime(), key.getKeyID());
        } catch (JOSEException | ParseException e) {
            throw bad("it cannot be verified (" + e.getMessage() + ")");
        }
    }

    private static TxkvException bad(String why) {
        return new TxkvException(ErrorCode.AUTHORIZATION_TOKEN_VERIFY_FAILED, "The token was refused: " + why
                + "; sign in again");
    }
}
