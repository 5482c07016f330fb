
ÿ
˘

service.name
cart

service.namespace
shop

service.version
2.4.1
$
service.instance.id
cart-prod-0
%
deployment.environment.name
prod
%
telemetry.sdk.name
opentelemetry
"
telemetry.sdk.language
python
!
telemetry.sdk.version
1.45.2
!
process.runtime.name	
cpython
#
process.runtime.version
3.12.7
#
	host.name
ip-10-1-0-0.internalZ
!
opentelemetry.sdk._logs0.48b05ERROR*
cart updatedJœ¿?ÀèxÒÖó(≤Òav|R±Zøû