-- Every dead letter (ticks.dlq): the input refused at ingress with the rule, field and value it broke.
SELECT * FROM {{ source('rejects') }}
