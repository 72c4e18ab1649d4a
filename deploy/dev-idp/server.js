// A development OpenID provider for Lifecare: the certified `oidc-provider`, configured with
// one client (the web UI, PKCE required) and a sign-in page of our own that lists the demo
// people as one-click buttons, beside a field for any user name. Never for production: it
// asks for no password and refuses to start with NODE_ENV=production.
//
//   node server.js --port 8020 --people people.json \
//     --client-id lifecare-web --client-secret … --redirect-uri http://127.0.0.1:8000/logga-in/klar
//
// The people file is read again at every sign-in (tests add people while it runs):
//   [{"sub": "anna", "name": "Anna Andersson", "title": "Utförare"}, …]
// A user name the file does not list signs in as itself, named by its user name: who may do
// what is the identity service's to say, not the provider's.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

if (process.env.NODE_ENV === 'production') {
  console.error('dev-idp: a development identity provider, refused with NODE_ENV=production');
  process.exit(2);
}

const { values: args } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '8020' },
    people: { type: 'string' },
    'client-id': { type: 'string', default: 'lifecare-web' },
    'client-secret': { type: 'string' },
    'redirect-uri': { type: 'string', multiple: true, default: [] },
  },
});
if (!args['client-secret'] || args['redirect-uri'].length === 0) {
  console.error('dev-idp: give --client-secret and at least one --redirect-uri');
  process.exit(2);
}

const USER_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

function people() {
  if (!args.people) return [];
  try {
    const list = JSON.parse(readFileSync(args.people, 'utf8'));
    return Array.isArray(list) ? list.filter((p) => p && USER_NAME.test(p.sub)) : [];
  } catch (error) {
    console.error(`dev-idp: cannot read ${args.people}: ${error.message}`);
    return [];
  }
}

function personOf(sub) {
  return people().find((p) => p.sub === sub) ?? { sub, name: sub };
}

// a fresh signing key at every start: a restart is a key rotation, which the web UI must
// survive by fetching the provider's keys again
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = {
  ...privateKey.export({ format: 'jwk' }),
  kid: randomBytes(8).toString('hex'),
  use: 'sig',
  alg: 'RS256',
};

const issuer = `http://${args.host}:${args.port}`;
const provider = new Provider(issuer, {
  clients: [
    {
      client_id: args['client-id'],
      client_secret: args['client-secret'],
      redirect_uris: args['redirect-uri'],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  pkce: { required: () => true },
  claims: { openid: ['sub'], profile: ['name'] },
  features: { devInteractions: { enabled: false } },
  async findAccount(_ctx, sub) {
    return {
      accountId: sub,
      async claims() {
        const person = personOf(sub);
        return { sub, name: person.name };
      },
    };
  },
  // the platform's own client: its scopes are granted without a consent page
  async loadExistingGrant(ctx) {
    const grantId =
      ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid profile');
    await grant.save();
    return grant;
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page('Fel vid inloggning', `<p>${escape(out.error)}: ${escape(out.error_description ?? '')}</p>`);
  },
});

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title, body) {
  return `<!doctype html>
<html lang="sv"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)} – utvecklingsinloggning</title><link rel="stylesheet" href="/dev-idp.css"></head>
<body><main><p class="tag">Utvecklingsmiljöns identitetsleverantör – inte för riktiga personer</p>
<h1>${escape(title)}</h1>${body}</main></body></html>`;
}

const STYLE = `body{font-family:system-ui,sans-serif;margin:0;background:#f3f4f6;color:#111}
main{max-width:34rem;margin:0 auto;padding:1.5rem 1rem}
.tag{background:#fde68a;padding:.4rem .6rem;border-radius:.3rem;font-size:.9rem}
form{margin:0 0 .6rem}label{display:block;font-weight:600;margin:.6rem 0 .3rem}
input{font-size:1rem;padding:.5rem;border:2px solid #555;border-radius:.3rem;width:100%;max-width:16rem;box-sizing:border-box}
button{font-size:1rem;padding:.55rem 1rem;border:0;border-radius:.3rem;background:#1d4ed8;color:#fff;cursor:pointer;margin-top:.6rem}
ul{list-style:none;padding:0}ul button{background:#fff;color:#1d4ed8;border:2px solid #1d4ed8;width:100%;text-align:left}
.error{color:#991b1b;font-weight:600}`;

function signInPage(uid, problem = '') {
  const demo = people()
    .map(
      (p) => `<li><form method="post" action="/interaction/${escape(uid)}/login">
<input type="hidden" name="user" value="${escape(p.sub)}">
<button>${escape(p.name)}${p.title ? ` – ${escape(p.title)}` : ''} (${escape(p.sub)})</button></form></li>`,
    )
    .join('\n');
  return page(
    'Logga in',
    `<form method="post" action="/interaction/${escape(uid)}/login">
<label for="user">Användare</label>
${problem ? `<p class="error" id="user-error">${escape(problem)}</p>` : ''}
<input id="user" name="user" autocomplete="username" autofocus${problem ? ' aria-describedby="user-error" aria-invalid="true"' : ''}>
<button>Logga in</button></form>
${demo ? `<h2>Demoanvändare</h2><ul>${demo}</ul>` : ''}`,
  );
}

async function formOf(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 10_000) throw new Error('form too large');
  }
  return new URLSearchParams(body);
}

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction mismatch');
  if (req.method === 'GET' && !action) {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(signInPage(uid));
    return;
  }
  if (req.method === 'POST' && action === 'login') {
    const user = ((await formOf(req)).get('user') ?? '').trim().toLowerCase();
    if (!USER_NAME.test(user)) {
      res.writeHead(422, { 'content-type': 'text/html; charset=utf-8' });
      res.end(signInPage(uid, user ? 'Användarnamnet får bara ha a–z, 0–9, punkt, streck.' : 'Skriv ett användarnamn.'));
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: user } }, {
      mergeWithLastSubmission: false,
    });
    return;
  }
  res.writeHead(405);
  res.end();
}

const oidc = provider.callback();
const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, issuer);
  const match = url.pathname.match(/^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login))?$/);
  try {
    if (url.pathname === '/dev-idp.css') {
      res.writeHead(200, { 'content-type': 'text/css' });
      res.end(STYLE);
    } else if (match) {
      await interaction(req, res, match[1], match[2]);
    } else {
      oidc(req, res);
    }
  } catch (error) {
    console.error(`dev-idp: ${req.method} ${url.pathname}: ${error.message}`);
    if (!res.headersSent) {
      res.writeHead(400, { 'content-type': 'text/html; charset=utf-8' });
      res.end(page('Inloggningen gick inte', '<p>Börja om från Lifecare.</p>'));
    }
  }
});

server.listen(Number(args.port), args.host, () => {
  console.log(`dev-idp: listening at ${issuer}`);
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
