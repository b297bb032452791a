-- Fidelius from SQL: the known-answer test of the ABDM "Fidelius CLI" documentation, vectors made
-- with the reference fidelius-cli (test/data/fidelius-vectors.json) in both directions and with
-- both public-key encodings, generated key material, and bad input of every kind with its error.
\set VERBOSITY default

-- Known-answer test (ABDM docs "Fidelius CLI"; the plaintext is the one the printed ciphertext
-- decrypts to, without "the" before "Potter").
SELECT abdm_hip.fidelius_encrypt(
  'Wormtail should never have been Potter cottage''s secret keeper.',
  'AYhVZpbVeX4KS5Qm/W0+9Ye2q3rnVVGmqRICmseWni4=',
  'lmXgblZwotx+DfBgKJF0lZXtAXgBEYr5khh79Zytr2Y=',
  'BAheD5rUqTy4V5xR4/6HWmYpopu5CO+KO8BECS0udNqUTSNo91TIqIIy1A4Vh+F94c+n9vAcwXU2bGcfsI5f69Y=',
  '6uj1RdDUbcpI3lVMZvijkMC8Te20O4Bcyz0SyivX8Eg=') AS kat_ciphertext;

-- Reference vectors (fidelius-cli gkm/se/d output), pasted from test/data/fidelius-vectors.json.
CREATE TEMP TABLE fv (name text, plaintext text, s_priv text, s_pub text, s_x509 text, s_nonce text,
                      r_priv text, r_pub text, r_x509 text, r_nonce text, ciphertext text, md5 text,
                      shared_secret_hex text);
INSERT INTO fv VALUES
  ('readme-kat',
   'Wormtail should never have been Potter cottage''s secret keeper.',
   'AYhVZpbVeX4KS5Qm/W0+9Ye2q3rnVVGmqRICmseWni4=', 'BABVt+mpRLMXiQpIfEq6bj8hlXsdtXIxLsspmMgLNI1SR5mHgDVbjHO2A+U4QlMddGzqyEidzm1AkhtSxSO2Ahg=',
   'MIIBMTCB6gYHKoZIzj0CATCB3gIBATArBgcqhkjOPQEBAiB/////////////////////////////////////////7TBEBCAqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqYSRShRAQge0Je0Je0Je0Je0Je0Je0Je0Je0Je0Je0JgtenHcQyGQEQQQqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq0kWiCuGaG4oIa04B7dLHdI0UySPU1+bXxhsinpxaJ+ztPZAiAQAAAAAAAAAAAAAAAAAAAAFN753qL3nNZYEmMaXPXT7QIBCANCAAQAVbfpqUSzF4kKSHxKum4/IZV7HbVyMS7LKZjICzSNUkeZh4A1W4xztgPlOEJTHXRs6shInc5tQJIbUsUjtgIY',
   'lmXgblZwotx+DfBgKJF0lZXtAXgBEYr5khh79Zytr2Y=',
   'DMxHPri8d7IT23KgLk281zZenMfVHSdeamq0RhwlIBk=', 'BAheD5rUqTy4V5xR4/6HWmYpopu5CO+KO8BECS0udNqUTSNo91TIqIIy1A4Vh+F94c+n9vAcwXU2bGcfsI5f69Y=',
   'MIIBMTCB6gYHKoZIzj0CATCB3gIBATArBgcqhkjOPQEBAiB/////////////////////////////////////////7TBEBCAqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqYSRShRAQge0Je0Je0Je0Je0Je0Je0Je0Je0Je0Je0JgtenHcQyGQEQQQqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq0kWiCuGaG4oIa04B7dLHdI0UySPU1+bXxhsinpxaJ+ztPZAiAQAAAAAAAAAAAAAAAAAAAAFN753qL3nNZYEmMaXPXT7QIBCANCAAQIXg+a1Kk8uFecUeP+h1pmKaKbuQjvijvARAktLnTalE0jaPdUyKiCMtQOFYfhfeHPp/bwHMF1NmxnH7COX+vW',
   '6uj1RdDUbcpI3lVMZvijkMC8Te20O4Bcyz0SyivX8Eg=',
   'pzMvVZNNVtJzqPkkxcCbBUWgDEBy/mBXIeT2dJWI16ZAQnnXUb9lI+S4k8XK6mgZSKKSRIHkcNvJpllnBg548wUgavBa0vCRRwdL6kY6Yw==',
   'FCHiP2stqPcWP7ux+YabmQ==', '1d96dcf5ae21f6430045e20b37956dbdb4981d64297c872b67da561e5419507b'),
  ('empty-plaintext',
   '',
   'CeT7q/34ILgmzjlbnwIIQxBPe1YwE+Q/mbLoFQzsaK8=', 'BDBmH3D1pDFPbBFqgyt+Xi+2+6nGZS/zn1IyILdE8Ie9csc43L2Wb4GtRCsbely48uvUqvKiwtXAdnyA/8mrWiE=',
   'MIIBMTCB6gYHKoZIzj0CATCB3gIBATArBgcqhkjOPQEBAiB/////////////////////////////////////////7TBEBCAqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqYSRShRAQge0Je0Je0Je0Je0Je0Je0Je0Je0Je0Je0JgtenHcQyGQEQQQqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq0kWiCuGaG4oIa04B7dLHdI0UySPU1+bXxhsinpxaJ+ztPZAiAQAAAAAAAAAAAAAAAAAAAAFN753qL3nNZYEmMaXPXT7QIBCANCAAQwZh9w9aQxT2wRaoMrfl4vtvupxmUv859SMiC3RPCHvXLHONy9lm+BrUQrG3pcuPLr1KryosLVwHZ8gP/Jq1oh',
   'LVYJ913Q0AFd3N3t5D8LPCssXkUPhbsP0ptF/JpVFCQ=',
   'Bi+jhjzSuOZkBOnEZpxPcKX4jYWvZxQHvFCokuDkaCU=', 'BAuv6uVDTvDHm2Ai7bYc1SdGBW0JxoYq9hQHl221Bn+DH7q2HnhVPdnlagS/SsdAiwA0BAkxGK2pbbJ5oKSJba8=',
   'MIIBMTCB6gYHKoZIzj0CATCB3gIBATArBgcqhkjOPQEBAiB/////////////////////////////////////////7TBEBCAqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqYSRShRAQge0Je0Je0Je0Je0Je0Je0Je0Je0Je0Je0JgtenHcQyGQEQQQqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq0kWiCuGaG4oIa04B7dLHdI0UySPU1+bXxhsinpxaJ+ztPZAiAQAAAAAAAAAAAAAAAAAAAAFN753qL3nNZYEmMaXPXT7QIBCANCAAQLr+rlQ07wx5tgIu22HNUnRgVtCcaGKvYUB5dttQZ/gx+6th54VT3Z5WoEv0rHQIsANAQJMRitqW2yeaCkiW2v',
   'N4PX5biKsYdQAAgMjLigtBTIyOJlQp0GgH6TREToXvk=',
   'GtaRBOdrEq1TxbGhAbR65w==',
   '1B2M2Y8AsgTpgAmY7PhCfg==', '2e187e971457b6881b9b1b51c8187e5dcac28b55a8163dec31a8b8334e66f33e'),
  ('devanagari',
   'रोगी: सुनीता शर्मा, आयु ५४ वर्ष। निदान: टाइप २ मधुमेह (E11)। दवा: मेटफॉर्मिन ५०० मि.ग्रा., दिन में दो बार भोजन के बाद। अगली जाँच: ३ महीने बाद।',
   'C2woArd2W7UKKfEHX0BVjhL6ZENR74FJs7VqYdcFkKg=', 'BCBC5QXF6aZW08vpedmv7J3CKixg66mT4NT7yVknMmMiP0WRpvwVzD40nAuUp97PNHlpjdEYbcGdL3oTTLcU+JY=',
   'MIIBMTCB6gYHKoZIzj0CATCB3gIBATArBgcqhkjOPQEBAiB/////////////////////////////////////////7TBEBCAqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqYSRShRAQge0Je0Je0Je0Je0Je0Je0Je0Je0Je0Je0JgtenHcQyGQEQQQqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq0kWiCuGaG4oIa04B7dLHdI0UySPU1+bXxhsinpxaJ+ztPZAiAQAAAAAAAAAAAAAAAAAAAAFN753qL3nNZYEmMaXPXT7QIBCANCAAQgQuUFxemmVtPL6XnZr+ydwiosYOupk+DU+8lZJzJjIj9Fkab8Fcw+NJwLlKfezzR5aY3RGG3BnS96E0y3FPiW',
   'uvYFcic5nVkp3udLSQ2Za4hCE9he6SYjGknLYLddP38=',
   'BCDTXY3G5hYZvv5T505CaWVNFxFVqXeECIesnYOI1cA=', 'BF02wuocyf52gtJmf/tFf/hLUuYuMWcBQAqFAWPBHrWPV+3lw/Lp5OCxWHIoLodX6+jd/SqrPYfLhhwxqVzejk4=',
   'MIIBMTCB6gYHKoZIzj0CATCB3gIBATArBgcqhkjOPQEBAiB/////////////////////////////////////////7TBEBCAqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqYSRShRAQge0Je0Je0Je0Je0Je0Je0Je0Je0Je0Je0JgtenHcQyGQEQQQqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq0kWiCuGaG4oIa04B7dLHdI0UySPU1+bXxhsinpxaJ+ztPZAiAQAAAAAAAAAAAAAAAAAAAAFN753qL3nNZYEmMaXPXT7QIBCANCAARdNsLqHMn+doLSZn/7RX/4S1LmLjFnAUAKhQFjwR61j1ft5cPy6eTgsVhyKC6HV+vo3f0qqz2Hy4YcMalc3o5O',
   'SDdOBE4M/ssMMnYgPrxSkY1xaPVTn3+BW9yRowLNN0c=',
   'u1BslYljfXBvi7bidsc2AiHJQGSbhISpSm5o257AKdnEFBX3sE60Fi3NU+TvTgMfkaQJmOoXr0G53esmbN6x8u9GAxUpoO4fsl7yvLhlcKVX/RTVVeHUdi+q6ZE71qmxDAkeSyVnuPi0+ofxWIYkzUMIXdxheDDDhWZmSiVqvlZ1YAN1eKzigEcmtDJYNcHDLq54E75YGPIcAC3HviS5THjdxTuNFvmUWwSbPAP2BxCE3U+X/t0sKJPolMwEjcId4LzMjvt/k5jy5TAJQ8bafETZNF/EJ/tbGQv95F/HBy25b7WnvjDCkM1LZ7I3+PJ04Q7rY66VNJjA7iBxiiu87/mQHFe0KsXJdSKBI8W4mAgPJ3JrXEHOx2LCpQlwys/z/nJIxDsoCEKwOt15R8kJ65/UvCVnsV6mXAXEToNdh/pkmiRCsvdOaBuB01VG6AYwUh0nshqTL3R/AVboHAoH5gUVDv6WGA1wGv7Mdg==',
   'vuJ9Aqp88dqxX2XbE3dMgA==', '58fbcc636a7e968151eb5b1919b6745800898f83cc9d784cd957d01a47e359b9'),
  ('shared-secret-leading-zero-byte',
   '{"resourceType":"Bundle","type":"document"}',
   'Ds3V4CSDs6F4fMCecD9pIAr0v/jfJ8HJ8x58QWJM4PM=', 'BFDV1dEupNlghB2wsHBM/YzJlq9ENQqpnNkgJKg+xJgARZIKLyw+MfkoVnhPi4WZXbVMURo3SzOpV1ayevfBQ6Y=',
   'MIIBMTCB6gYHKoZIzj0CATCB3gIBATArBgcqhkjOPQEBAiB/////////////////////////////////////////7TBEBCAqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqYSRShRAQge0Je0Je0Je0Je0Je0Je0Je0Je0Je0Je0JgtenHcQyGQEQQQqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq0kWiCuGaG4oIa04B7dLHdI0UySPU1+bXxhsinpxaJ+ztPZAiAQAAAAAAAAAAAAAAAAAAAAFN753qL3nNZYEmMaXPXT7QIBCANCAARQ1dXRLqTZYIQdsLBwTP2MyZavRDUKqZzZICSoPsSYAEWSCi8sPjH5KFZ4T4uFmV21TFEaN0szqVdWsnr3wUOm',
   'GH43FDHt+NtxeIPKckEOf05NN4MRQfd8TSfoPAvDexw=',
   'C1qpPwtmMMhWkj8FwuhJf3ICPh59+9uS5Ad2l8taS2Q=', 'BGNiduEr3ntW7VX74WY9ZZGoAGGNwpC/o6aiFv4j2G7+Re4YC/ef+ngppRQksqfp3CxORT9IiiVR/XjRsAvtXxM=',
   'MIIBMTCB6gYHKoZIzj0CATCB3gIBATArBgcqhkjOPQEBAiB/////////////////////////////////////////7TBEBCAqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqYSRShRAQge0Je0Je0Je0Je0Je0Je0Je0Je0Je0Je0JgtenHcQyGQEQQQqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq0kWiCuGaG4oIa04B7dLHdI0UySPU1+bXxhsinpxaJ+ztPZAiAQAAAAAAAAAAAAAAAAAAAAFN753qL3nNZYEmMaXPXT7QIBCANCAARjYnbhK957Vu1V++FmPWWRqABhjcKQv6Omohb+I9hu/kXuGAv3n/p4KaUUJLKn6dwsTkU/SIolUf140bAL7V8T',
   'VhTyQK66iYhbT/vnvp7a0dlD1X2MIgK83liRtHijCkI=',
   'GL+FDbO/5+Jq3INVsAhXfnbiHuWu6lORfmLfmpWRnL/tlEx7PSYmXvBE3/99F9e9fct9nP1PxkxQCbU=',
   'O0GBZ8XDunHPJPSgjk102A==', '00da5187bd9c58c41d27a97de1e229b446f0779533faaa2e44f48988558d19f1'),
  ('sender-private-key-31-bytes',
   'Short private keys are still valid private keys.',
   'bsGsn9CjnsCIYX1xox5Jfer89oAsNFCXJ0HIWeWYiQ==', 'BEAUXqRskjttQ8VCagd6aaO9ySEZ5l9WU7CovHuWPZ+oBoXbGfWyaruNhOxjpH54A5l0mMQV3IaEDLek7QTIqao=',
   'MIIBMTCB6gYHKoZIzj0CATCB3gIBATArBgcqhkjOPQEBAiB/////////////////////////////////////////7TBEBCAqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqYSRShRAQge0Je0Je0Je0Je0Je0Je0Je0Je0Je0Je0JgtenHcQyGQEQQQqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq0kWiCuGaG4oIa04B7dLHdI0UySPU1+bXxhsinpxaJ+ztPZAiAQAAAAAAAAAAAAAAAAAAAAFN753qL3nNZYEmMaXPXT7QIBCANCAARAFF6kbJI7bUPFQmoHemmjvckhGeZfVlOwqLx7lj2fqAaF2xn1smq7jYTsY6R+eAOZdJjEFdyGhAy3pO0EyKmq',
   'kiMl0horBqq8yvmNpzDmgJWhT+otYMiupUuxmeplvT8=',
   'BpL7dihmhF+vU3dkpG95gYoacdLnzscnxzHA7k2GYGQ=', 'BHIQV0WnaqTsfmuF0Z9l4fRqhLiSIkaxl2X+MMD86HQCYXyxTjLIb4zpGKX86hVgBqKJzsob3Tzm72/AcePuxzg=',
   'MIIBMTCB6gYHKoZIzj0CATCB3gIBATArBgcqhkjOPQEBAiB/////////////////////////////////////////7TBEBCAqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqYSRShRAQge0Je0Je0Je0Je0Je0Je0Je0Je0Je0Je0JgtenHcQyGQEQQQqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq0kWiCuGaG4oIa04B7dLHdI0UySPU1+bXxhsinpxaJ+ztPZAiAQAAAAAAAAAAAAAAAAAAAAFN753qL3nNZYEmMaXPXT7QIBCANCAARyEFdFp2qk7H5rhdGfZeH0aoS4kiJGsZdl/jDA/Oh0AmF8sU4yyG+M6Ril/OoVYAaiic7KG9085u9vwHHj7sc4',
   'nTgiRm2PWTvpxg+rx4odA2BtL+95f7zRGAHMxww4wYY=',
   'q7fDlLr3amR/rUiBLfnsc8+YSxLfCZ81w61gtZFG658L5nxp8qE7f5cNuBERZEnjMYXMesdfiT6twvdbBjkdxQ==',
   'js5a7QsP/wxvKeHVDkV2XA==', '35828e763ff6ba57b06fed250554fb1520dcf91d41b7a8fde032d451805ad39a'),
  ('requester-private-key-leading-00',
   'ABDM 🩺 नमस्ते',
   'CY8ELFqfog53pxd6YmlJ5wklLINybngBPywjCylfeLE=', 'BFglRtbZWcNP2Jc5NrsoizVYZVcJJJwWV9YhTbcFJKERd3K5kUMOkKACVXdX98HEnpS3nMmRIsZ5aTwIHWO74tg=',
   'MIIBMTCB6gYHKoZIzj0CATCB3gIBATArBgcqhkjOPQEBAiB/////////////////////////////////////////7TBEBCAqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqYSRShRAQge0Je0Je0Je0Je0Je0Je0Je0Je0Je0Je0JgtenHcQyGQEQQQqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq0kWiCuGaG4oIa04B7dLHdI0UySPU1+bXxhsinpxaJ+ztPZAiAQAAAAAAAAAAAAAAAAAAAAFN753qL3nNZYEmMaXPXT7QIBCANCAARYJUbW2VnDT9iXOTa7KIs1WGVXCSScFlfWIU23BSShEXdyuZFDDpCgAlV3V/fBxJ6Ut5zJkSLGeWk8CB1ju+LY',
   'i7CraEkA6IoUsiNekWcgFDBv/anif6Gux6LdYpJCqas=',
   'APD2tdnMRPs1hHfvKf7kFjc4fk1MnKYCOaOxaT+P/oI=', 'BHRby1mrnCKsGLLCH5Y2ub3qEJgN9C1WkWvECPlRZOogGoJhE/1QaYEjzvN7sNkkyWcjtxXTZzpqcdAhTj2LcbI=',
   'MIIBMTCB6gYHKoZIzj0CATCB3gIBATArBgcqhkjOPQEBAiB/////////////////////////////////////////7TBEBCAqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqYSRShRAQge0Je0Je0Je0Je0Je0Je0Je0Je0Je0Je0JgtenHcQyGQEQQQqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq0kWiCuGaG4oIa04B7dLHdI0UySPU1+bXxhsinpxaJ+ztPZAiAQAAAAAAAAAAAAAAAAAAAAFN753qL3nNZYEmMaXPXT7QIBCANCAAR0W8tZq5wirBiywh+WNrm96hCYDfQtVpFrxAj5UWTqIBqCYRP9UGmBI87ze7DZJMlnI7cV02c6anHQIU49i3Gy',
   'TZUuzC1gYUx3FhMbnKMOZzrC6eeyIy+MRMLLsP7Tf6M=',
   'CiQyaP9y18Lo1mTRWctaejuz+y2lw/v3GQxJfNGuApE51//AmHEwdS0Tf2M=',
   'enFe3Mun7FbKDxXk77LY9A==', '13286860cf5446ebc010aff42cbc5c654e3be930e84bf6d45cfc49364f658607');

-- HIP → HIU: encryption gives the reference ciphertext for the raw and the X.509 requester key.
SELECT name,
       abdm_hip.fidelius_encrypt(plaintext, s_priv, s_nonce, r_pub, r_nonce) = ciphertext AS raw_key,
       abdm_hip.fidelius_encrypt(plaintext, s_priv, s_nonce, r_x509, r_nonce) = ciphertext AS x509_key
FROM fv ORDER BY name;
-- HIU side: decryption gives the plaintext back with either encoding of the sender key.
SELECT name,
       abdm_hip.fidelius_decrypt(ciphertext, r_priv, r_nonce, s_pub, s_nonce) = plaintext AS raw_key,
       abdm_hip.fidelius_decrypt(ciphertext, r_priv, r_nonce, s_x509, s_nonce) = plaintext AS x509_key,
       abdm_hip.fidelius_checksum(plaintext) = md5 AS checksum
FROM fv ORDER BY name;
SELECT abdm_hip.fidelius_decrypt(ciphertext, r_priv, r_nonce, s_x509, s_nonce) AS plaintext
FROM fv WHERE name IN ('devanagari', 'requester-private-key-leading-00', 'empty-plaintext') ORDER BY name;
SELECT name, abdm_hip.fidelius_checksum(plaintext) FROM fv ORDER BY name;

-- The 1 MiB case of the vectors file (plaintext = repeat(unit, count)): compared by digest.
WITH c AS (
  SELECT abdm_hip.fidelius_encrypt(repeat('0123456789abcdef', 65536),
           'A7wzOmi2UymGo9mYIA1ECtUusZ0/hOkTPiG28rtqbFQ=',
           'xmM5rgQFXFp0uUVWfxlcdZG3n/tMX9Y8mQD2xjA/egk=',
           'MIIBMTCB6gYHKoZIzj0CATCB3gIBATArBgcqhkjOPQEBAiB/////////////////////////////////////////7TBEBCAqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqYSRShRAQge0Je0Je0Je0Je0Je0Je0Je0Je0Je0Je0JgtenHcQyGQEQQQqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq0kWiCuGaG4oIa04B7dLHdI0UySPU1+bXxhsinpxaJ+ztPZAiAQAAAAAAAAAAAAAAAAAAAAFN753qL3nNZYEmMaXPXT7QIBCANCAARTP0ZiWO47+2IQdWUL7JjRpjEUMBq9WPBbVwTKwtwr/z1/5NS+5dlzWadnn6JNWXq1CjaEckAcC4pEVkjbc2y5',
           '9tiJ0m7g8r/jf4TgI9SI5IDkouoLjdH6aHGDIc2R4NU=') AS ct)
SELECT length(ct) AS base64_chars,
       encode(sha256(convert_to(ct, 'UTF8')), 'hex') = 'fd144f7a188528bf1e1d786f0ea888f119e746d37937e3484b68e384868269bd' AS sha256_matches,
       left(ct, 64) AS head,
       right(ct, 24) AS tail_with_tag,
       md5(abdm_hip.fidelius_decrypt(ct, 'AY6OnffvcJCoM2kAU8NGhhSccbfgcx2sN/4YNxUgyQ4=', '9tiJ0m7g8r/jf4TgI9SI5IDkouoLjdH6aHGDIc2R4NU=',
                                     'BHN8O/Tbv6knTIxs5hIUEuxRbXFlwBLj8At0lwRRmOHEY5Ai1KmRmCxU9Jes6XV9sROMTRURX6ncjIE8HmaRbfo=', 'xmM5rgQFXFp0uUVWfxlcdZG3n/tMX9Y8mQD2xjA/egk=')) = md5(repeat('0123456789abcdef', 65536)) AS round_trip
FROM c;

-- Generated key material: the fidelius gkm shape, and a round trip between two fresh parties
-- (HIU key raw, HIP key X.509, as ABDM exchanges them).
WITH k AS (SELECT abdm_hip.fidelius_generate_key_material() AS km)
SELECT (SELECT array_agg(key ORDER BY key) FROM jsonb_object_keys(km) AS key) AS fields,
       length(decode(km->>'publicKey', 'base64')) AS public_key_bytes,
       length(decode(km->>'x509PublicKey', 'base64')) AS x509_bytes,
       length(decode(km->>'nonce', 'base64')) AS nonce_bytes,
       length(decode(km->>'privateKey', 'base64')) BETWEEN 1 AND 32 AS private_key_ok,
       left(km->>'x509PublicKey', 48) AS x509_prefix
FROM k;
WITH hip AS (SELECT abdm_hip.fidelius_generate_key_material() AS k),
     hiu AS (SELECT abdm_hip.fidelius_generate_key_material() AS k),
     sent AS (SELECT abdm_hip.fidelius_encrypt('{"resourceType":"Bundle","type":"document"}', hip.k->>'privateKey',
                       hip.k->>'nonce', hiu.k->>'publicKey', hiu.k->>'nonce') AS ct, hip.k AS hk, hiu.k AS uk
              FROM hip, hiu)
SELECT abdm_hip.fidelius_decrypt(ct, uk->>'privateKey', uk->>'nonce', hk->>'x509PublicKey', hk->>'nonce') AS round_trip,
       hk->>'nonce' <> uk->>'nonce' AS distinct_nonces
FROM sent;
SELECT abdm_hip.fidelius_checksum('') AS md5_empty, abdm_hip.fidelius_checksum('abc') AS md5_abc;
-- STRICT: NULL in, NULL out.
SELECT abdm_hip.fidelius_encrypt(NULL, s_priv, s_nonce, r_pub, r_nonce) IS NULL AS null_in_null_out
FROM fv WHERE name = 'readme-kat';

-- Bad input. One error shown in full (message and hint naming the argument) ...
SELECT abdm_hip.fidelius_decrypt(overlay(ciphertext placing 'A' from 5 for 1), r_priv, r_nonce, s_pub, s_nonce)
FROM fv WHERE name = 'readme-kat';
-- ... then every kind, as SQLSTATE: message, with one argument of the KAT replaced at a time.
CREATE FUNCTION pg_temp.outcome(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE q;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
-- PostgreSQL's encode(..., 'base64') breaks lines every 76 characters; ABDM's base64 has none.
CREATE FUNCTION pg_temp.b64(bytes bytea) RETURNS text LANGUAGE sql AS $$ SELECT translate(encode(bytes, 'base64'), E'\n', '') $$;
CREATE TEMP VIEW kat AS SELECT * FROM fv WHERE name = 'readme-kat';
CREATE TEMP TABLE bad (n serial, what text, q text);
INSERT INTO bad (what, q) VALUES
  ('encrypt: private key not base64', $q$SELECT abdm_hip.fidelius_encrypt(plaintext, 'not base64!', s_nonce, r_pub, r_nonce) FROM kat$q$),
  ('encrypt: private key with a line break', $q$SELECT abdm_hip.fidelius_encrypt(plaintext, s_priv || E'\n', s_nonce, r_pub, r_nonce) FROM kat$q$),
  ('encrypt: private key empty', $q$SELECT abdm_hip.fidelius_encrypt(plaintext, '', s_nonce, r_pub, r_nonce) FROM kat$q$),
  ('encrypt: private key 34 bytes', $q$SELECT abdm_hip.fidelius_encrypt(plaintext, pg_temp.b64('\x00'::bytea || decode(s_priv, 'base64') || '\x00'::bytea), s_nonce, r_pub, r_nonce) FROM kat$q$),
  ('encrypt: private key zero', $q$SELECT abdm_hip.fidelius_encrypt(plaintext, 'AA==', s_nonce, r_pub, r_nonce) FROM kat$q$),
  ('encrypt: private key = n', $q$SELECT abdm_hip.fidelius_encrypt(plaintext, pg_temp.b64(decode('1000000000000000000000000000000014def9dea2f79cd65812631a5cf5d3ed', 'hex')), s_nonce, r_pub, r_nonce) FROM kat$q$),
  ('encrypt: private key negative for Java', $q$SELECT abdm_hip.fidelius_encrypt(plaintext, pg_temp.b64(decode(repeat('ff', 32), 'hex')), s_nonce, r_pub, r_nonce) FROM kat$q$),
  ('encrypt: sender nonce 31 bytes', $q$SELECT abdm_hip.fidelius_encrypt(plaintext, s_priv, pg_temp.b64(substr(decode(s_nonce, 'base64'), 2)), r_pub, r_nonce) FROM kat$q$),
  ('encrypt: sender nonce URL-safe alphabet', $q$SELECT abdm_hip.fidelius_encrypt(plaintext, s_priv, translate(s_nonce, '+/', '-_'), r_pub, r_nonce) FROM kat$q$),
  ('encrypt: requester nonce 33 bytes', $q$SELECT abdm_hip.fidelius_encrypt(plaintext, s_priv, s_nonce, r_pub, pg_temp.b64(decode(r_nonce, 'base64') || '\x00'::bytea)) FROM kat$q$),
  ('encrypt: requester nonce unpadded', $q$SELECT abdm_hip.fidelius_encrypt(plaintext, s_priv, s_nonce, r_pub, rtrim(r_nonce, '=')) FROM kat$q$),
  ('encrypt: public key 64 bytes (no 04)', $q$SELECT abdm_hip.fidelius_encrypt(plaintext, s_priv, s_nonce, pg_temp.b64(substr(decode(r_pub, 'base64'), 2)), r_nonce) FROM kat$q$),
  ('encrypt: public key from encode() with its line breaks', $q$SELECT abdm_hip.fidelius_encrypt(plaintext, s_priv, s_nonce, encode(decode(r_pub, 'base64'), 'base64'), r_nonce) FROM kat$q$),
  ('encrypt: public key compressed (33 bytes)', $q$SELECT abdm_hip.fidelius_encrypt(plaintext, s_priv, s_nonce, pg_temp.b64('\x02'::bytea || substr(decode(r_pub, 'base64'), 2, 32)), r_nonce) FROM kat$q$),
  ('encrypt: public key 65 bytes not starting 04', $q$SELECT abdm_hip.fidelius_encrypt(plaintext, s_priv, s_nonce, pg_temp.b64(set_byte(decode(r_pub, 'base64'), 0, 3)), r_nonce) FROM kat$q$),
  ('encrypt: public key off the curve', $q$SELECT abdm_hip.fidelius_encrypt(plaintext, s_priv, s_nonce, pg_temp.b64(set_byte(decode(r_pub, 'base64'), 64, get_byte(decode(r_pub, 'base64'), 64) # 1)), r_nonce) FROM kat$q$),
  ('encrypt: public key (0,0)', $q$SELECT abdm_hip.fidelius_encrypt(plaintext, s_priv, s_nonce, pg_temp.b64('\x04'::bytea || decode(repeat('00', 64), 'hex')), r_nonce) FROM kat$q$),
  ('encrypt: public key of order 2', $q$SELECT abdm_hip.fidelius_encrypt(plaintext, s_priv, s_nonce, pg_temp.b64(decode('04' || '2aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaad2451' || repeat('00', 32), 'hex')), r_nonce) FROM kat$q$),
  -- The KAT requester key plus a point of order 8 (on the curve, outside the prime-order subgroup), made with the C++ test helpers.
  ('encrypt: public key with a small-order component', $q$SELECT abdm_hip.fidelius_encrypt(plaintext, s_priv, s_nonce, 'BBVG3rOMfrHTQi/Z+HTxGeCC7wriGu0mYwJ7m+0PXCn9G+/lteOwmi1f3szYfRx+uCC+HX8qCEG8oS43STjgec8=', r_nonce) FROM kat$q$),
  ('encrypt: public key of order 8', $q$SELECT abdm_hip.fidelius_encrypt(plaintext, s_priv, s_nonce, 'BAG8SnuH+M2DMTjHA28G7q8Gmi5HAFx7W882+05nQsDDFzpsdsK6cZvOOTX/ugSv6t9bvLlxVZci8O/Hvft/mjY=', r_nonce) FROM kat$q$),
  ('encrypt: public key with x >= p (x + p)', $q$SELECT abdm_hip.fidelius_encrypt(plaintext, s_priv, s_nonce, pg_temp.b64(decode('04885e0f9ad4a93cb8579c51e3fe875a6629a29bb908ef8a3bc044092d2e74da81', 'hex') || substr(decode(r_pub, 'base64'), 34)), r_nonce) FROM kat$q$),
  ('encrypt: X.509 key with another curve parameter', $q$SELECT abdm_hip.fidelius_encrypt(plaintext, s_priv, s_nonce, pg_temp.b64(set_byte(decode(r_x509, 'base64'), 100, 0)), r_nonce) FROM kat$q$),
  ('encrypt: X.509 key truncated', $q$SELECT abdm_hip.fidelius_encrypt(plaintext, s_priv, s_nonce, pg_temp.b64(substr(decode(r_x509, 'base64'), 1, 308)), r_nonce) FROM kat$q$),
  ('decrypt: ciphertext not base64', $q$SELECT abdm_hip.fidelius_decrypt('%%%%', r_priv, r_nonce, s_pub, s_nonce) FROM kat$q$),
  ('decrypt: ciphertext with a space', $q$SELECT abdm_hip.fidelius_decrypt(' ' || substr(ciphertext, 2), r_priv, r_nonce, s_pub, s_nonce) FROM kat$q$),
  ('decrypt: ciphertext empty', $q$SELECT abdm_hip.fidelius_decrypt('', r_priv, r_nonce, s_pub, s_nonce) FROM kat$q$),
  ('decrypt: ciphertext 15 bytes', $q$SELECT abdm_hip.fidelius_decrypt(pg_temp.b64(decode(repeat('ab', 15), 'hex')), r_priv, r_nonce, s_pub, s_nonce) FROM kat$q$),
  ('decrypt: tag altered', $q$SELECT abdm_hip.fidelius_decrypt(pg_temp.b64(set_byte(decode(ciphertext, 'base64'), length(decode(ciphertext, 'base64')) - 1, 0)), r_priv, r_nonce, s_pub, s_nonce) FROM kat$q$),
  ('decrypt: ciphertext truncated by one byte', $q$SELECT abdm_hip.fidelius_decrypt(pg_temp.b64(substr(decode(ciphertext, 'base64'), 1, length(decode(ciphertext, 'base64')) - 1)), r_priv, r_nonce, s_pub, s_nonce) FROM kat$q$),
  ('decrypt: wrong requester nonce', $q$SELECT abdm_hip.fidelius_decrypt(ciphertext, r_priv, s_nonce, s_pub, s_nonce) FROM kat$q$),
  ('decrypt: wrong sender key', $q$SELECT abdm_hip.fidelius_decrypt(ciphertext, r_priv, r_nonce, r_pub, s_nonce) FROM kat$q$),
  ('decrypt: requester private key not base64', $q$SELECT abdm_hip.fidelius_decrypt(ciphertext, 'x', r_nonce, s_pub, s_nonce) FROM kat$q$),
  ('decrypt: requester nonce empty', $q$SELECT abdm_hip.fidelius_decrypt(ciphertext, r_priv, '', s_pub, s_nonce) FROM kat$q$),
  ('decrypt: sender public key off the curve (X.509)', $q$SELECT abdm_hip.fidelius_decrypt(ciphertext, r_priv, r_nonce, pg_temp.b64(set_byte(decode(s_x509, 'base64'), 308, 0)), s_nonce) FROM kat$q$),
  ('decrypt: sender nonce not base64', $q$SELECT abdm_hip.fidelius_decrypt(ciphertext, r_priv, r_nonce, s_pub, s_nonce || '=') FROM kat$q$),
  -- Authentic ciphertexts (KAT keys) of the bytes ff fe ' not UTF-8' and of 'a' NUL 'b', made with the C++ core.
  ('decrypt: plaintext bytes not UTF-8', $q$SELECT abdm_hip.fidelius_decrypt('D6J9VohYH+sHnbxzsIGq1O26qtncYtqlSYiEUWc=', r_priv, r_nonce, s_pub, s_nonce) FROM kat$q$),
  ('decrypt: plaintext with a NUL byte', $q$SELECT abdm_hip.fidelius_decrypt('kVw/RGrhUqB/sxNpbjSJuxnDew==', r_priv, r_nonce, s_pub, s_nonce) FROM kat$q$),
  ('encrypt: sender nonce equal to the requester nonce', $q$SELECT abdm_hip.fidelius_encrypt(plaintext, s_priv, r_nonce, r_pub, r_nonce) FROM kat$q$);
SELECT n, what, pg_temp.outcome(q) FROM bad ORDER BY n;
DROP TABLE bad;
DROP VIEW kat;
DROP TABLE fv;
