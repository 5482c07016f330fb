
Ë
ÿ

service.name
cart

service.namespace
shop

service.version
2.4.1
'
service.instance.id
cart-staging-0
(
deployment.environment.name	
staging
%
telemetry.sdk.name
opentelemetry
"
telemetry.sdk.language
python
!
telemetry.sdk.version
1.38.0
!
process.runtime.name	
cpython
#
process.runtime.version
3.11.9
#
	host.name
ip-10-2-0-0.internalÆ
!
opentelemetry.sdk._logs0.48b05ERROR*
cart updatedJk&\ÕBCqWğOİCÖ/R•³TÜıªü4	INFO*
cart updatedJıyÊËÏh0X5)õR³¦@”Sş4	INFO*
cart updatedJ™cğÇ5ouƒËRsÙ¹Ûe˜µq