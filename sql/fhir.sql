-- abdm_hip.fhir_document / fhir_check / fhir_hi_type from SQL, and health_record refusing a
-- bundle that fails the document checks. Records are the minimal examples of test/data/fhir/records
-- (plus the complete OPConsultation one); docs/fhir-record.md documents their shape.
\set VERBOSITY default
\set SHOW_CONTEXT never
SET ROLE regress_hmis;

CREATE TEMP TABLE rec (hi_type text PRIMARY KEY, record jsonb NOT NULL);
INSERT INTO rec VALUES
  ('OPConsultation', $${"patient":{"ref":"MRN-100234","name":"Ravi Kumar","gender":"M"},"practitioner":{"registration":"KMC-55012","name":"Dr. Anita Sharma"},"facility":{"hfr_id":"IN2910000012","name":"City Care Hospital"},"document":{"date":"2024-03-14T10:35:00+05:30"},"visit":{"class":"AMB","start":"2024-03-14T10:05:00+05:30"},"chief_complaints":[{"code":"Fever"}]}$$),
  ('Prescription', $${"patient":{"ref":"MRN-100234","name":"Ravi Kumar","gender":"M"},"practitioner":{"registration":"KMC-55012","name":"Dr. Anita Sharma"},"facility":{"hfr_id":"IN2910000012","name":"City Care Hospital"},"document":{"date":"2024-03-14T10:40:00+05:30"},"medications":[{"code":"Paracetamol 500 mg tablet","dosage":"1-1-1 for 3 days"}]}$$),
  ('DiagnosticReport', $${"patient":{"ref":"MRN-100234","name":"Ravi Kumar","gender":"M"},"practitioner":{"registration":"KMC-55012","name":"Dr. Anita Sharma"},"facility":{"hfr_id":"IN2910000012","name":"City Care Hospital"},"document":{"date":"2024-03-15T17:20:00+05:30"},"report":{"kind":"imaging","code":"Chest X-ray","conclusion":"No abnormality detected.","media":[{"content_type":"image/png","data":"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4//8/AAX+Av4N70a4AAAAAElFTkSuQmCC"}]}}$$),
  ('DischargeSummary', $${"patient":{"ref":"MRN-100234","name":"Ravi Kumar","gender":"M"},"practitioner":{"registration":"KMC-55012","name":"Dr. Anita Sharma"},"facility":{"hfr_id":"IN2910000012","name":"City Care Hospital"},"document":{"date":"2024-03-14T12:30:00+05:30"},"visit":{"class":"IMP","start":"2024-03-10T08:30:00+05:30","end":"2024-03-14T12:00:00+05:30"},"care_plan":[{"description":"Review in OPD after 1 week"}]}$$),
  ('ImmunizationRecord', $${"patient":{"ref":"MRN-100234","name":"Ravi Kumar","gender":"M"},"practitioner":{"registration":"KMC-55012","name":"Dr. Anita Sharma"},"facility":{"hfr_id":"IN2910000012","name":"City Care Hospital"},"document":{"date":"2024-02-01T11:00:00+05:30"},"immunizations":[{"vaccine":"Tetanus toxoid","date":"2023-11-20"}]}$$),
  ('HealthDocumentRecord', $${"patient":{"ref":"MRN-100234","name":"Ravi Kumar","gender":"M"},"practitioner":{"registration":"KMC-55012","name":"Dr. Anita Sharma"},"facility":{"hfr_id":"IN2910000012","name":"City Care Hospital"},"document":{"date":"2024-01-20T09:30:00+05:30"},"attachments":[{"content_type":"application/pdf","data":"JVBERi0xLjQKMSAwIG9iago8PCAvVHlwZSAvQ2F0YWxvZyAvUGFnZXMgMiAwIFIgPj4KZW5kb2JqCjIgMCBvYmoKPDwgL1R5cGUgL1BhZ2VzIC9LaWRzIFszIDAgUl0gL0NvdW50IDEgPj4KZW5kb2JqCjMgMCBvYmoKPDwgL1R5cGUgL1BhZ2UgL1BhcmVudCAyIDAgUiAvTWVkaWFCb3ggWzAgMCA2MTIgNzkyXSAvQ29udGVudHMgNCAwIFIgL1Jlc291cmNlcyA8PCAvRm9udCA8PCAvRjEgNSAwIFIgPj4gPj4gPj4KZW5kb2JqCjQgMCBvYmoKPDwgL0xlbmd0aCA1MyA+PgpzdHJlYW0KQlQgL0YxIDE4IFRmIDcyIDcyMCBUZCAoYWJkbV9oaXAgc2FtcGxlIHJlcG9ydCkgVGogRVQKZW5kc3RyZWFtCmVuZG9iago1IDAgb2JqCjw8IC9UeXBlIC9Gb250IC9TdWJ0eXBlIC9UeXBlMSAvQmFzZUZvbnQgL0hlbHZldGljYSA+PgplbmRvYmoKeHJlZgowIDYKMDAwMDAwMDAwMCA2NTUzNSBmIAowMDAwMDAwMDA5IDAwMDAwIG4gCjAwMDAwMDAwNTggMDAwMDAgbiAKMDAwMDAwMDExNSAwMDAwMCBuIAowMDAwMDAwMjQxIDAwMDAwIG4gCjAwMDAwMDAzNDQgMDAwMDAgbiAKdHJhaWxlcgo8PCAvU2l6ZSA2IC9Sb290IDEgMCBSID4+CnN0YXJ0eHJlZgo0MTQKJSVFT0YK"}]}$$),
  ('WellnessRecord', $${"patient":{"ref":"MRN-100234","name":"Ravi Kumar","gender":"M"},"practitioner":{"registration":"KMC-55012","name":"Dr. Anita Sharma"},"facility":{"hfr_id":"IN2910000012","name":"City Care Hospital"},"document":{"date":"2024-03-01T08:00:00+05:30"},"vital_signs":[{"code":{"system":"loinc","code":"8867-4","display":"Heart rate"},"value":72,"unit":"beats/minute"}]}$$),
  ('Invoice', $${"patient":{"ref":"MRN-100234","name":"Ravi Kumar","gender":"M"},"practitioner":{"registration":"KMC-55012","name":"Dr. Anita Sharma"},"facility":{"hfr_id":"IN2910000012","name":"City Care Hospital"},"document":{"date":"2024-03-14T11:00:00+05:30"},"invoice":{"number":"INV-1","type":"00","line_items":[{"category":"00","product":"OPD consultation","quantity":1,"rate":300}]}}$$);
INSERT INTO rec VALUES ('OPConsultation (complete)', $${"patient":{"ref":"MRN-100234","name":"Ravi Kumar","gender":"male","birth_date":"1981-01-12","mobile":"+919818512600","abha_number":"91-1234-5678-9012","abha_address":"ravi.kumar@sbx"},"practitioner":{"registration":"71-4221-3445-1298","name":"Dr. Anita Sharma"},"facility":{"hfr_id":"IN2910000012","name":"City Care Hospital, Bengaluru","phone":"+918041234567"},"document":{"date":"2024-03-14T10:35:00+05:30","title":"OP Consultation - General Medicine"},"visit":{"ref":"OPD-2024-000871","class":"AMB","start":"2024-03-14T10:05:00+05:30","end":"2024-03-14T10:30:00+05:30"},"diagnoses":[{"code":{"system":"snomed","code":"44054006","display":"Diabetes mellitus type 2"},"clinical_status":"active"}],"chief_complaints":[{"code":{"system":"snomed","code":"386661006","display":"Fever"},"clinical_status":"active","onset":"2024-03-11","note":"Fever for 3 days, evening rise"},{"code":"Generalised body ache","clinical_status":"active"}],"physical_examination":[{"code":{"system":"loinc","code":"8310-5","display":"Body temperature"},"value":38.6,"unit":"degC","unit_code":"Cel","interpretation":"H","effective":"2024-03-14T10:10:00+05:30"},{"code":{"system":"loinc","code":"8867-4","display":"Heart rate"},"value":96,"unit":"beats/minute","unit_code":"/min","reference_range":{"low":60,"high":100}}],"allergies":[{"code":{"system":"snomed","code":"764146007","display":"Penicillin"},"clinical_status":"active","verification_status":"confirmed","criticality":"high","reactions":[{"system":"snomed","code":"126485001","display":"Urticaria"}]}],"medical_history":[{"code":{"system":"snomed","code":"59621000","display":"Essential hypertension"},"clinical_status":"active","onset":"2019"}],"family_history":[{"relationship":{"system":"http://terminology.hl7.org/CodeSystem/v3-RoleCode","code":"FTH","display":"father"},"conditions":[{"system":"snomed","code":"44054006","display":"Diabetes mellitus type 2"}]}],"investigation_advice":[{"code":{"system":"snomed","code":"26604007","display":"Complete blood count"},"occurrence":"2024-03-15"}],"medications":[{"code":{"system":"snomed","code":"322236009","display":"Paracetamol 500 mg oral tablet"},"dosage":"1 tablet three times a day after food for 3 days","route":{"system":"snomed","code":"26643006","display":"Oral route"},"reason":{"system":"snomed","code":"386661006","display":"Fever"}}],"current_medications":[{"code":"Metformin 500 mg tablet","dosage":"1-0-1","status":"active"}],"follow_up":[{"start":"2024-03-21T10:00:00+05:30","end":"2024-03-21T10:15:00+05:30","service_type":{"system":"snomed","code":"11429006","display":"Consultation"},"description":"Review with CBC report"}],"procedures":[{"code":{"system":"snomed","code":"80146002","display":"Appendectomy"},"status":"completed","performed":"2015-06-02"}],"referrals":[{"code":{"system":"snomed","code":"183519002","display":"Referral to cardiology service"},"reason":{"system":"snomed","code":"59621000","display":"Essential hypertension"}}],"other_observations":[{"code":{"system":"loinc","code":"2339-0","display":"Glucose [Mass/volume] in Blood"},"value":182,"unit":"mg/dL","unit_code":"mg/dL","interpretation":"H"}],"attachments":[{"content_type":"application/pdf","data":"JVBERi0xLjQKMSAwIG9iago8PCAvVHlwZSAvQ2F0YWxvZyAvUGFnZXMgMiAwIFIgPj4KZW5kb2JqCjIgMCBvYmoKPDwgL1R5cGUgL1BhZ2VzIC9LaWRzIFszIDAgUl0gL0NvdW50IDEgPj4KZW5kb2JqCjMgMCBvYmoKPDwgL1R5cGUgL1BhZ2UgL1BhcmVudCAyIDAgUiAvTWVkaWFCb3ggWzAgMCA2MTIgNzkyXSAvQ29udGVudHMgNCAwIFIgL1Jlc291cmNlcyA8PCAvRm9udCA8PCAvRjEgNSAwIFIgPj4gPj4gPj4KZW5kb2JqCjQgMCBvYmoKPDwgL0xlbmd0aCA1MyA+PgpzdHJlYW0KQlQgL0YxIDE4IFRmIDcyIDcyMCBUZCAoYWJkbV9oaXAgc2FtcGxlIHJlcG9ydCkgVGogRVQKZW5kc3RyZWFtCmVuZG9iago1IDAgb2JqCjw8IC9UeXBlIC9Gb250IC9TdWJ0eXBlIC9UeXBlMSAvQmFzZUZvbnQgL0hlbHZldGljYSA+PgplbmRvYmoKeHJlZgowIDYKMDAwMDAwMDAwMCA2NTUzNSBmIAowMDAwMDAwMDA5IDAwMDAwIG4gCjAwMDAwMDAwNTggMDAwMDAgbiAKMDAwMDAwMDExNSAwMDAwMCBuIAowMDAwMDAwMjQxIDAwMDAwIG4gCjAwMDAwMDAzNDQgMDAwMDAgbiAKdHJhaWxlcgo8PCAvU2l6ZSA2IC9Sb290IDEgMCBSID4+CnN0YXJ0eHJlZgo0MTQKJSVFT0YK","title":"Consultation note","type":{"system":"snomed","code":"371530004","display":"Clinical consultation report"}}]}$$);

-- Every HI type builds a document whose Composition carries its record profile, type and section
-- codes (titles for WellnessRecord), and which fhir_check finds nothing wrong with.
SELECT r.hi_type,
       substring(c->'meta'->'profile'->>0 from '[^/]+$') AS profile,
       coalesce(c->'type'->'coding'->0->>'code', c->'type'->>'text') AS type,
       (SELECT string_agg(coalesce(s->'code'->'coding'->0->>'code', s->>'title'), ', ')
          FROM jsonb_array_elements(c->'section') s) AS sections,
       jsonb_array_length(b->'entry') AS entries,
       (SELECT count(*) FROM abdm_hip.fhir_check(b)) AS issues,
       abdm_hip_internal.fhir_hi_type(b) AS fhir_hi_type
  FROM rec r,
       LATERAL abdm_hip.fhir_document(split_part(r.hi_type, ' ', 1), r.record) AS b,
       LATERAL (SELECT b->'entry'->0->'resource') AS x(c)
 ORDER BY 1;

-- Deterministic: the same record gives the same bundle, timestamps from document.date.
SELECT bool_and(abdm_hip.fhir_document(split_part(hi_type, ' ', 1), record) = abdm_hip.fhir_document(split_part(hi_type, ' ', 1), record)) AS same
  FROM rec;
SELECT b->>'timestamp' AS timestamp, b->'meta'->>'lastUpdated' AS last_updated, b->'identifier'->>'system' AS identifier_system
  FROM rec, LATERAL abdm_hip.fhir_document(hi_type, record) b WHERE hi_type = 'Prescription';

-- One whole bundle, to show the shape of the output.
SELECT jsonb_pretty(abdm_hip.fhir_document('Prescription', record)) FROM rec WHERE hi_type = 'Prescription';

-- Bad input: every error names the field, in the message and in the hint.
SELECT abdm_hip.fhir_document('Prescription', record - 'patient') FROM rec WHERE hi_type = 'Prescription';
SELECT abdm_hip.fhir_document('Prescription', record #- '{patient,name}') FROM rec WHERE hi_type = 'Prescription';
SELECT abdm_hip.fhir_document('Prescription', jsonb_set(record, '{patient,nmae}', '"Ravi"')) FROM rec WHERE hi_type = 'Prescription';
SELECT abdm_hip.fhir_document('Prescription', record || '{"diagnosis": []}') FROM rec WHERE hi_type = 'Prescription';
SELECT abdm_hip.fhir_document('Prescription', jsonb_set(record, '{patient,gender}', '"X"')) FROM rec WHERE hi_type = 'Prescription';
SELECT abdm_hip.fhir_document('Prescription', jsonb_set(record, '{document,date}', '"2024-03-14"')) FROM rec WHERE hi_type = 'Prescription';
SELECT abdm_hip.fhir_document('Prescription', jsonb_set(record, '{medications,0,code}', '{"system": "loinc", "code": "1-8", "display": "x"}')) FROM rec WHERE hi_type = 'Prescription';
SELECT abdm_hip.fhir_document('HealthDocumentRecord', jsonb_set(record, '{attachments,0,data}', '"not base64"')) FROM rec WHERE hi_type = 'HealthDocumentRecord';
SELECT abdm_hip.fhir_document('OPConsultation', record - 'visit') FROM rec WHERE hi_type = 'OPConsultation';
SELECT abdm_hip.fhir_document('Invoice', jsonb_set(record, '{invoice,line_items,0,rate}', '12.345')) FROM rec WHERE hi_type = 'Invoice';
SELECT abdm_hip.fhir_document('LabReport', '{}');
SELECT abdm_hip.fhir_document('Prescription', '[]');
SELECT abdm_hip.fhir_document('Prescription', NULL) IS NULL AS strict;

-- fhir_check reports what is wrong with a bundle, with its place.
CREATE TEMP TABLE good AS SELECT abdm_hip.fhir_document('OPConsultation', record) AS b FROM rec WHERE hi_type = 'OPConsultation';
SELECT * FROM abdm_hip.fhir_check((SELECT jsonb_set(b, '{type}', '"collection"') #- '{timestamp}' FROM good));
SELECT * FROM abdm_hip.fhir_check((SELECT jsonb_set(b, '{entry,0,resource,subject,reference}', '"urn:uuid:00000000-0000-0000-0000-000000000000"') FROM good));
SELECT * FROM abdm_hip.fhir_check((SELECT jsonb_set(b, '{entry,0,resource,type,coding,0,display}', '"Consultation report"') FROM good));
SELECT * FROM abdm_hip.fhir_check((SELECT b #- '{entry,0,resource,encounter}' FROM good));
SELECT * FROM abdm_hip.fhir_check('[]');
SELECT abdm_hip_internal.fhir_hi_type('{"resourceType": "Bundle"}') IS NULL AS no_hi_type;

-- health_record keeps a conforming bundle and refuses one that fails the checks or is filed under
-- another HI type. (In a transaction rolled back at the end: later tests count patients.)
BEGIN;
INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender) VALUES ('IN2710000002', 'MRN-100234', 'Ravi Kumar', 'M');
INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types, visit_at)
VALUES ('IN2710000002', 'MRN-100234', 'OPD-2024-000871', 'OPD visit 14 Mar 2024', '{OPConsultation}', '2024-03-14 10:05+05:30');
INSERT INTO abdm_hip.health_record (hip_id, care_context_ref, hi_type, recorded_at, bundle)
SELECT 'IN2710000002', 'OPD-2024-000871', 'OPConsultation', (b->>'timestamp')::timestamptz, b FROM good;
SELECT hi_type, recorded_at, bundle->'entry'->0->'resource'->>'title' AS title FROM abdm_hip.health_record WHERE hip_id = 'IN2710000002';
SAVEPOINT s;
INSERT INTO abdm_hip.health_record (hip_id, care_context_ref, hi_type, recorded_at, bundle)
SELECT 'IN2710000002', 'OPD-2024-000871', 'OPConsultation', now(), b #- '{entry,0,resource,encounter}' #- '{identifier}' FROM good;
ROLLBACK TO SAVEPOINT s;
INSERT INTO abdm_hip.health_record (hip_id, care_context_ref, hi_type, recorded_at, bundle)
SELECT 'IN2710000002', 'OPD-2024-000871', 'Prescription', now(), b FROM good;
ROLLBACK TO SAVEPOINT s;
UPDATE abdm_hip.health_record SET bundle = jsonb_set(bundle, '{entry,1,fullUrl}', bundle->'entry'->2->'fullUrl') WHERE hip_id = 'IN2710000002';
ROLLBACK;

RESET ROLE;
