// The operators' custom resources against their APIs' schemas, as the API server would
// take them. Reads a JSON list of objects on stdin; prints a JSON list of problems, each
// "Kind/name: /path/in/it: what is wrong" (tests/deploy/test_k8s.py runs it).
//
// Two well-kept tools over one package per operator (kubernetes-models, generated from the
// operator's own API): its validators (ajv, compiled from the schema) for types, enums,
// patterns and required fields; TypeScript's type checker over its types for fields the API
// does not have, which the API server drops or, with strict field validation, refuses
// (the validators let unknown fields through).
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import * as cnpg from "@kubernetes-models/cloudnative-pg/postgresql.cnpg.io/v1";
import * as monitoring from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";

const APIS = {
  "postgresql.cnpg.io/v1": {
    module: "@kubernetes-models/cloudnative-pg/postgresql.cnpg.io/v1",
    models: cnpg,
  },
  "monitoring.coreos.com/v1": {
    module: "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1",
    models: monitoring,
  },
};
const HERE = dirname(fileURLToPath(import.meta.url));

const nameOf = (resource) => `${resource.kind}/${resource.metadata?.name}`;

function schemaProblems(resource, Model) {
  try {
    new Model(resource).validate();
    return [];
  } catch (error) {
    if (!error.errors) throw error;
    return error.errors.map((e) => {
      const allowed = e.params?.allowedValues ? ` (${e.params.allowedValues.join(", ")})` : "";
      return { path: e.instancePath || "/", message: `${e.message}${allowed}` };
    });
  }
}

// the fields of a resource that its type does not have, each as its JSON path: every
// object literal in it is checked against the type TypeScript expects there (a map, such
// as labels or parameters, takes any name)
function unknownFields(checker, literal) {
  const found = [];
  const visit = (node, path) => {
    if (ts.isArrayLiteralExpression(node)) {
      node.elements.forEach((element, index) => visit(element, `${path}/${index}`));
      return;
    }
    if (!ts.isObjectLiteralExpression(node)) return;
    const contextual = checker.getContextualType(node);
    const expected = contextual && checker.getNonNullableType(contextual);
    // a field of any shape (the API keeps unknown fields there); none at all at the top
    // means the resource's type was not found, and nothing would be checked
    if (!expected || expected.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) {
      if (path === "") throw new Error(`no type found for ${literal.parent.type.getText()}`);
      return;
    }
    const types = expected.isUnion() ? expected.types : [expected];
    const open = types.some((type) => checker.getIndexInfosOfType(type).length > 0);
    for (const property of node.properties) {
      const name = JSON.parse(property.name.getText());
      const known = types.some((type) => checker.getPropertyOfType(type, name));
      if (open || known) visit(property.initializer, `${path}/${name}`);
      else found.push(`${path}/${name}`);
    }
  };
  visit(literal, "");
  return found;
}

function fieldProblems(resources) {
  const files = new Map();
  resources.forEach((resource, index) => {
    const { module } = APIS[resource.apiVersion];
    const text =
      `import type { I${resource.kind} } from "${module}";\n` +
      `export const resource: I${resource.kind} = ${JSON.stringify(resource, null, 2)};\n`;
    files.set(join(HERE, `resource-${index}.mts`), text);
  });
  const options = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (name, language, ...rest) =>
    files.has(name)
      ? ts.createSourceFile(name, files.get(name), language, true)
      : getSourceFile.call(host, name, language, ...rest);
  host.fileExists = (name) => files.has(name) || fileExists.call(host, name);
  host.readFile = (name) => files.get(name) ?? readFile.call(host, name);
  const program = ts.createProgram([...files.keys()], options, host);
  const checker = program.getTypeChecker();
  return [...files.keys()].map((name) => {
    const statement = program.getSourceFile(name).statements[1];
    const literal = statement.declarationList.declarations[0].initializer;
    return unknownFields(checker, literal).map((path) => ({ path, message: "no such field" }));
  });
}

const resources = JSON.parse(readFileSync(0, "utf8"));
const known = resources.filter((r) => APIS[r.apiVersion]?.models[r.kind]);
const fields = fieldProblems(known);
const problems = [];
for (const resource of resources) {
  const api = APIS[resource.apiVersion];
  const Model = api?.models[resource.kind];
  if (!Model) {
    problems.push(`${nameOf(resource)}: no schema here for ${resource.apiVersion}`);
    continue;
  }
  const found = [...schemaProblems(resource, Model), ...fields[known.indexOf(resource)]];
  problems.push(...found.map((p) => `${nameOf(resource)}: ${p.path}: ${p.message}`));
}
process.stdout.write(JSON.stringify(problems, null, 2) + "\n");
