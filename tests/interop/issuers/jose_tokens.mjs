// Tokens signed by panva's jose for tests/interop/test_real_issuers.py
// (jose is installed by that test into tests/interop/issuers/node_modules).
//
// usage: node jose_tokens.mjs   (reads one JSON object from stdin, prints one)
// in:  {"issuer", "jobs": [{"name", "typ", "claims", "iat", "exp"}]}
//      iat and exp are jose's own time spans ("now", "5m", "10 minutes ago")
// out: {"jwks": {"keys": [the public key]}, "tokens": {name: compact JWS}}
// Every token is signed with one ES256 key made here, its kid a thumbprint.
import * as jose from 'jose'

const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const { issuer, jobs } = JSON.parse(Buffer.concat(chunks).toString('utf8'))

const { publicKey, privateKey } = await jose.generateKeyPair('ES256', { extractable: true })
const jwk = await jose.exportJWK(publicKey)
const kid = await jose.calculateJwkThumbprint(jwk)

const tokens = {}
for (const job of jobs) {
  const jwt = new jose.SignJWT(job.claims)
    .setProtectedHeader({ alg: 'ES256', kid, typ: job.typ })
    .setIssuer(issuer)
    .setIssuedAt(job.iat === 'now' ? undefined : job.iat)
    .setExpirationTime(job.exp)
    .setJti(crypto.randomUUID())
  tokens[job.name] = await jwt.sign(privateKey)
}
process.stdout.write(JSON.stringify({ jwks: { keys: [{ ...jwk, kid, alg: 'ES256', use: 'sig' }] }, tokens }))
