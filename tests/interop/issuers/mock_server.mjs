// oauth2-mock-server (axa-group) on loopback, for tests/interop/test_real_issuers.py
// (installed by that test into tests/interop/issuers/node_modules).
//
// usage: node mock_server.mjs PORT   (prints "ready" once it serves)
// The server makes its own RS256 key and serves discovery, /jwks and /token.
// Tokens are shaped with its documented beforeTokenSigning hook, as its
// README shows: client_id is the authenticated client, and a test may ask
// for a token already expired with the form field "lifetime" (seconds).
import { OAuth2Server } from 'oauth2-mock-server'

const port = Number(process.argv[2])

function basicUser(header) {
  if (!header?.startsWith('Basic ')) return undefined
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8')
  return decodeURIComponent(decoded.slice(0, decoded.indexOf(':')))
}

const server = new OAuth2Server()
await server.issuer.keys.generate('RS256')
server.service.on('beforeTokenSigning', (token, req) => {
  token.payload.client_id = basicUser(req.headers.authorization) ?? req.body.client_id
  if (req.body.lifetime !== undefined) {
    token.payload.exp = token.payload.iat + Number(req.body.lifetime)
    token.payload.nbf = token.payload.exp - 60
    token.payload.iat = token.payload.nbf
  }
})
await server.start(port, '127.0.0.1')
server.issuer.url = `http://127.0.0.1:${port}` // it would say localhost
process.stdout.write('ready\n')
process.on('SIGTERM', async () => {
  await server.stop()
  process.exit(0)
})
