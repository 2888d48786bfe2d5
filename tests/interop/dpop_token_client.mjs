// An oauth4webapi client against oidc-provider and a jwt-guard resource, for
// tests/interop/test_dpop_adapters.py.
//
// usage: node dpop_token_client.mjs <issuer> <resource base URL>
// Gets a DPoP-bound access token by client_credentials (with the provider's DPoP),
// calls the resource, and prints one JSON line per step:
// {"step", "status", "www" (WWW-Authenticate), "nonce" (DPoP-Nonce), "retried"}.
import * as oauth from 'oauth4webapi'

const [issuerUrl, base] = process.argv.slice(2)
const insecure = { [oauth.allowInsecureRequests]: true }
const issuer = new URL(issuerUrl)
const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure))
const client = { client_id: 'orders-client' }
const auth = oauth.ClientSecretBasic('orders-client-secret-0123456789abcdef')
const keyPair = await oauth.generateKeyPair('ES256', { extractable: true })
const DPoP = oauth.DPoP(client, keyPair)

async function token() {
  const send = () => oauth.clientCredentialsGrantRequest(
    as, client, auth, new URLSearchParams({ scope: 'orders:read' }), { DPoP, ...insecure })
  let response = await send()
  try {
    return await oauth.processClientCredentialsResponse(as, client, response)
  } catch (err) {
    if (!oauth.isDPoPNonceError(err)) throw err
    response = await send()
    return await oauth.processClientCredentialsResponse(as, client, response)
  }
}

const grant = await token()
const print = (step, response, extra = {}) => console.log(JSON.stringify({
  step, status: response.status, www: response.headers.get('www-authenticate'),
  nonce: response.headers.get('dpop-nonce'), ...extra,
}))
console.log(JSON.stringify({ step: 'token', token_type: grant.token_type, access_token: grant.access_token }))

// Every proof the client sends, so that one can be replayed below.
let lastProof = null
const capture = async (url, options) => {
  lastProof = new Headers(options.headers).get('dpop')
  return fetch(url, options)
}
async function call(step, method, path) {
  const url = new URL(path, base)
  const options = { DPoP, [oauth.customFetch]: capture, ...insecure }
  const send = () => oauth.protectedResourceRequest(grant.access_token, method, url, new Headers(), null, options)
  let retried = false
  let response
  try {
    response = await send()
  } catch (err) {
    if (!oauth.isDPoPNonceError(err)) {
      console.log(JSON.stringify({ step, error: `${err.name}: ${err.message}`, status: err.status ?? null }))
      return
    }
    retried = true
    response = await send()
  }
  print(step, response, { retried })
}

await call('first', 'GET', '/orders')
await call('second', 'POST', '/orders?draft=1')
const url = new URL('/orders', base)
print('replayed', await fetch(url, { headers: { authorization: `DPoP ${grant.access_token}`, dpop: lastProof } }))
print('no_proof', await fetch(url, { headers: { authorization: `DPoP ${grant.access_token}` } }))
print('as_bearer', await fetch(url, { headers: { authorization: `Bearer ${grant.access_token}` } }))
