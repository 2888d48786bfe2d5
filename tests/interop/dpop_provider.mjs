// panva's oidc-provider as the authorization server of tests/interop/test_dpop_adapters.py.
//
// usage: node dpop_provider.mjs <port> <resource>
// Issues JWT access tokens for <resource> by the client_credentials grant, DPoP-bound
// (cnf.jkt) when the token request carries a DPoP proof. Prints "ready" once listening.
import { generateKeyPairSync } from 'node:crypto'
import Provider from 'oidc-provider'

const [port, resource] = process.argv.slice(2)
const es256 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' })
const rs256 = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' })

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: 'orders-client',
    client_secret: 'orders-client-secret-0123456789abcdef',
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    scope: 'orders:read',
  }],
  jwks: { keys: [{ ...es256, kid: 'op-es256', alg: 'ES256', use: 'sig' }, { ...rs256, kid: 'op-rs256', use: 'sig' }] },
  scopes: ['orders:read'],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    dPoP: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'orders:read',
        audience: resource,
        accessTokenFormat: 'jwt',
        accessTokenTTL: 300,
        jwt: { sign: { alg: 'ES256' } },
      }),
    },
  },
})
provider.listen(Number(port), '127.0.0.1', () => console.log('ready'))
