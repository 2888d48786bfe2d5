// panva's oauth4webapi as the RFC 9728 Protected Resource Metadata consumer,
// for tests/interop/test_resource_metadata_oauth4webapi.py.
//
// usage: node resource_metadata_client.mjs <resource identifier> <protected URL>
// Prints one JSON object: what each step gave, or {"error": {name, code, message}}.
// Everything here is plain http on loopback, so every call but the first passes
// oauth4webapi's allowInsecureRequests (it refuses http:// otherwise).
import * as oauth from 'oauth4webapi'

const [resourceArg, protectedArg] = process.argv.slice(2)
const resource = new URL(resourceArg)
const insecure = { [oauth.allowInsecureRequests]: true }
const failure = (err) => ({ error: { name: err.name, code: err.code ?? null, message: err.message } })
async function attempt(step) {
  try {
    return await step()
  } catch (err) {
    return failure(err)
  }
}
const out = {}

// 1. oauth4webapi's default: http:// is refused before any request.
out.without_insecure = await attempt(async () => {
  await oauth.resourceDiscoveryRequest(resource)
  return { sent: true }
})

// 2. Discovery from the resource identifier (RFC 9728 section 3.1 and 3.3).
out.discovery = await attempt(async () => {
  const response = await oauth.resourceDiscoveryRequest(resource, insecure)
  return { url: response.url, metadata: await oauth.processResourceDiscoveryResponse(resource, response) }
})

// 3. The same document taken as another resource's: its "resource" must not match.
out.other_resource = await attempt(async () => {
  const other = new URL('https://api.example/')
  const response = await oauth.resourceDiscoveryRequest(resource, insecure)
  return { metadata: await oauth.processResourceDiscoveryResponse(other, response) }
})

// 4. A request the resource refuses: oauth4webapi parses its WWW-Authenticate
//    challenges (WWWAuthenticateChallengeError.cause) ...
out.challenge = await attempt(async () => {
  try {
    const url = new URL(protectedArg)
    await oauth.protectedResourceRequest('not-a-token-anyone-issued', 'GET', url, new Headers(), null, insecure)
    return { challenged: false }
  } catch (err) {
    if (!(err instanceof oauth.WWWAuthenticateChallengeError)) throw err
    return { status: err.status, challenges: err.cause }
  }
})

// 5. ... and the resource_metadata URL of the first one is fetched and
//    validated against the resource the client was calling (RFC 9728 section 5).
out.from_challenge = await attempt(async () => {
  const url = out.challenge.challenges[0].parameters.resource_metadata
  const response = await fetch(url)
  return { url, metadata: await oauth.processResourceDiscoveryResponse(resource, response) }
})

// 6. The authorization server the metadata names, by its own discovery.
out.authorization_server = await attempt(async () => {
  const issuer = new URL(out.discovery.metadata.authorization_servers[0])
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure))
  return { issuer: as.issuer, token_endpoint: as.token_endpoint }
})

console.log(JSON.stringify(out))
