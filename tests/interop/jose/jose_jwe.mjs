// Nested JWE with panva's jose, driven by tests/core/test_jwe_interop.py
// (jose is installed by that test into tests/interop/jose/node_modules).
//
// usage: node jose_jwe.mjs   (reads one JSON list of jobs from stdin, prints one JSON list)
// {"op": "issue", "claims", "signPkcs8", "signKid", "recipientSpki", "recipientKid", "alg", "enc"}
//   -> {"token"}: an ES256 JWS (typ at+jwt) encrypted to the recipient (cty JWT).
// {"op": "consume", "token", "decryptPkcs8", "alg", "enc", "issuerJwks", "issuer", "audience", "now"}
//   -> {"claims", "cty"} or {"error"}: decrypt (only alg/enc allowed), then verify the JWS.
import * as jose from 'jose'

const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const jobs = JSON.parse(Buffer.concat(chunks).toString('utf8'))

async function issue(job) {
  const signKey = await jose.importPKCS8(job.signPkcs8, 'ES256')
  const jws = await new jose.SignJWT(job.claims)
    .setProtectedHeader({ alg: 'ES256', kid: job.signKid, typ: 'at+jwt' })
    .sign(signKey)
  const encKey = await jose.importSPKI(job.recipientSpki, job.alg)
  const token = await new jose.CompactEncrypt(new TextEncoder().encode(jws))
    .setProtectedHeader({ alg: job.alg, enc: job.enc, cty: 'JWT', kid: job.recipientKid })
    .encrypt(encKey)
  return { token }
}

async function consume(job) {
  try {
    const key = await jose.importPKCS8(job.decryptPkcs8, job.alg)
    const { plaintext, protectedHeader } = await jose.compactDecrypt(job.token, key, {
      keyManagementAlgorithms: [job.alg],
      contentEncryptionAlgorithms: [job.enc],
    })
    const jwks = jose.createLocalJWKSet(job.issuerJwks)
    const { payload } = await jose.jwtVerify(new TextDecoder().decode(plaintext), jwks, {
      issuer: job.issuer,
      audience: job.audience,
      typ: 'at+jwt',
      currentDate: new Date(job.now * 1000),
    })
    return { claims: payload, cty: protectedHeader.cty }
  } catch (err) {
    return { error: `${err.code ?? err.name}: ${err.message}` }
  }
}

const results = []
for (const job of jobs) results.push(job.op === 'issue' ? await issue(job) : await consume(job))
console.log(JSON.stringify(results))
