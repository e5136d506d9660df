// validate-entities.js checks Backstage catalog entities with the real npm
// package @backstage/catalog-model, the way the catalog backend does: the
// entity policies (envelope, field formats such as names, labels, tags and
// annotations, no foreign root fields) and then the validator of the entity's
// kind (entitySchemaValidator alone checks only the envelope, so a Resource
// without spec.owner would pass it).
//
// Input on stdin: a JSON array of entities. Output: one line per entity,
// "ok KIND:NAME" or "invalid KIND:NAME: REASON". Exit status 1 when any entity
// is invalid or of a kind plat does not emit.
'use strict';

const model = require('@backstage/catalog-model');

const byKind = {
  System: model.systemEntityV1alpha1Validator,
  Resource: model.resourceEntityV1alpha1Validator,
  API: model.apiEntityV1alpha1Validator,
};

const policies = model.EntityPolicies.allOf([
  new model.DefaultNamespaceEntityPolicy(),
  new model.NoForeignRootFieldsEntityPolicy(),
  new model.SchemaValidEntityPolicy(),
  new model.FieldFormatEntityPolicy(),
]);

async function main() {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  const entities = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  if (!Array.isArray(entities) || entities.length === 0) {
    console.log('invalid input: want a non-empty JSON array of entities');
    process.exit(1);
  }
  let bad = 0;
  for (const e of entities) {
    const ref = `${e && e.kind}:${e && e.metadata && e.metadata.name}`;
    try {
      const v = byKind[e.kind];
      if (!v) throw new Error(`kind ${e.kind} is not one plat emits`);
      const checked = await policies.enforce(JSON.parse(JSON.stringify(e)));
      if (!checked) throw new Error('rejected by the entity policies');
      if ((await v.check(checked)) !== true) throw new Error(`not accepted by the ${e.kind} validator`);
      console.log(`ok ${ref}`);
    } catch (err) {
      bad++;
      console.log(`invalid ${ref}: ${String(err && err.message || err).replace(/\n/g, ' ')}`);
    }
  }
  process.exit(bad ? 1 : 0);
}

main().catch(err => { console.log(`invalid input: ${err.message}`); process.exit(1); });
