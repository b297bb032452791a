-- abdm_hip.gateway_error_code(response): the code of the first error a gateway answer carries,
-- read as the sender reads it (what outbox_failed() acts on: ABDM-1092 and ABDM-1027 stop link
-- token requests, ABDM-1056 means already linked).
SELECT abdm_hip.gateway_error_code('{"error": {"code": "ABDM-1092: ", "message": "Duplicate"}}') AS wrapped,
       abdm_hip.gateway_error_code('{"code": "abdm-1056", "message": "already linked"}') AS bare,
       abdm_hip.gateway_error_code('{"fault": {"code": 900901, "message": "Invalid Credentials"}}') AS wso2,
       abdm_hip.gateway_error_code('[{"code": "ABDM-1027", "message": "blocked"}]') AS list,
       abdm_hip.gateway_error_code('{"errors": [{"code": "ABDM-1064", "message": "Body missing"}]}') AS errors;
-- Answers without an error code: NULL.
SELECT abdm_hip.gateway_error_code('{"status": "SUCCESS", "message": "linked"}') IS NULL AS success,
       abdm_hip.gateway_error_code('{"code": "IN0710000001", "name": "City Hospital"}') IS NULL AS success_with_a_code_field,
       abdm_hip.gateway_error_code('"Bad Gateway"') IS NULL AS plain_text,
       abdm_hip.gateway_error_code('{"error": "boom"}') IS NULL AS error_without_code,
       abdm_hip.gateway_error_code(NULL) IS NULL AS no_answer;
