// Composes brand-gateway's committed SDL with a second subgraph that
// extends `Brand`, starts that subgraph on 127.0.0.1, and runs queries
// through a real Apollo Federation v2 gateway. Prints one JSON object with
// each query's result on stdout; the Rust test asserts on it.
//
// Env: BRAND_GATEWAY_URL (our /graphql), BRAND_GATEWAY_SDL (path to our
// SDL), TOKENS (JSON object: label -> bearer token), APPLICATIONS (JSON
// object: label -> application id, fetched through our `Application` key).
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { composeServices } from '@apollo/composition';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { graphql, parse } from 'graphql';

const ourUrl = process.env.BRAND_GATEWAY_URL;
const ourSdl = readFileSync(process.env.BRAND_GATEWAY_SDL, 'utf8');
const tokens = JSON.parse(process.env.TOKENS);
const applications = JSON.parse(process.env.APPLICATIONS);

// The second subgraph: partner notes kept by another team, keyed by brand,
// and a reviewer checklist keyed by application.
const notesTypeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  type Brand @key(fields: "id") {
    id: ID!
    partnerNote: String!
  }
  type Application @key(fields: "id") {
    id: ID!
    checklist: String!
  }
  type Query {
    featuredBrands: [Brand!]!
    brandNote(id: ID!): Brand
    applicationChecklist(id: ID!): Application
  }
`);
const notesSchema = buildSubgraphSchema({
  typeDefs: notesTypeDefs,
  resolvers: {
    Query: {
      featuredBrands: () => [{ id: '1' }, { id: '2' }],
      brandNote: (_, { id }) => ({ id }),
      applicationChecklist: (_, { id }) => ({ id }),
    },
    Application: {
      __resolveReference: (ref) => ref,
      checklist: (application) => `checklist for application ${application.id}`,
    },
    Brand: {
      __resolveReference: (ref) => ref,
      partnerNote: (brand) => `note for brand ${brand.id}`,
    },
  },
});
const notesServer = http.createServer((req, res) => {
  let body = '';
  req.on('data', (chunk) => (body += chunk));
  req.on('end', async () => {
    const { query, variables, operationName } = JSON.parse(body);
    const result = await graphql({ schema: notesSchema, source: query, variableValues: variables, operationName });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(result));
  });
});
await new Promise((resolve) => notesServer.listen(0, '127.0.0.1', resolve));
const notesUrl = `http://127.0.0.1:${notesServer.address().port}/graphql`;

const composed = composeServices([
  { name: 'brands', typeDefs: parse(ourSdl), url: ourUrl },
  { name: 'notes', typeDefs: notesTypeDefs, url: notesUrl },
]);
if (composed.errors) {
  console.log(JSON.stringify({ compositionErrors: composed.errors.map((e) => e.message) }));
  process.exit(1);
}

const gateway = new ApolloGateway({
  supergraphSdl: composed.supergraphSdl,
  buildService: ({ url }) =>
    new RemoteGraphQLDataSource({
      url,
      willSendRequest({ request, context }) {
        request.http.headers.set('authorization', `Bearer ${context.token}`);
      },
    }),
});
const server = new ApolloServer({ gateway });
await server.start();

const queries = {
  featured: `{ featuredBrands { id name status category { code } partnerNote } }`,
  brand1: `{ brandNote(id: "1") { id name partnerNote } }`,
  brand2: `{ brandNote(id: "2") { id name partnerNote } }`,
};
for (const [label, id] of Object.entries(applications)) {
  queries[label] = `{ applicationChecklist(id: "${id}") { id state statement brand { id } checklist } }`;
}
const results = {};
for (const [label, token] of Object.entries(tokens)) {
  results[label] = {};
  for (const [name, query] of Object.entries(queries)) {
    const response = await server.executeOperation({ query }, { contextValue: { token } });
    results[label][name] = response.body.singleResult;
  }
}
console.log(JSON.stringify(results));
await server.stop();
notesServer.close();
