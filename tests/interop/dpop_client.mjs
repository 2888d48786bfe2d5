// A DPoP client built on panva's oauth4webapi, driven by tests/core/test_dpop_interop.py.
//
// usage: node dpop_client.mjs <alg> <base URL>
// Prints {"jkt": ...} (the key's RFC 7638 thumbprint), reads the access token bound
// to it from stdin, calls the resource as described below and prints one JSON line
// per call: {"method", "path", "status", "retried", "nonce"} or {"error"}.
import * as readline from 'node:readline'
import * as oauth from 'oauth4webapi'

const [alg, base] = process.argv.slice(2)
const keyPair = await oauth.generateKeyPair(alg, { extractable: true })
const DPoP = oauth.DPoP({}, keyPair)
console.log(JSON.stringify({ jkt: await DPoP.calculateThumbprint() }))

const lines = readline.createInterface({ input: process.stdin })
const token = (await lines[Symbol.asyncIterator]().next()).value.trim()
lines.close()

async function call(method, path) {
  const url = new URL(path, base)
  const options = { DPoP, [oauth.allowInsecureRequests]: true }
  const send = () => oauth.protectedResourceRequest(token, method, url, new Headers(), null, options)
  let retried = false
  let response
  try {
    response = await send()
  } catch (err) {
    if (!oauth.isDPoPNonceError(err)) {
      return { method, path, error: `${err.name}: ${err.message}`, status: err.status ?? null }
    }
    // RFC 9449 section 9: the 401 carried a DPoP-Nonce; the handle cached it.
    retried = true
    response = await send()
  }
  return { method, path, status: response.status, retried, nonce: response.headers.get('dpop-nonce') }
}

for (const [method, path] of [['GET', '/orders'], ['POST', '/orders/42?draft=1'], ['DELETE', '/orders/42']]) {
  console.log(JSON.stringify(await call(method, path)))
}
