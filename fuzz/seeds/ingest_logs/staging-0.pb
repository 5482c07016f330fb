
É
‡

service.name

checkout

service.namespace
shop

service.version
2.4.1
+
service.instance.id
checkout-staging-0
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
ip-10-2-0-0.internal=
!
opentelemetry.sdk._logs0.48b0	INFO*
order placed