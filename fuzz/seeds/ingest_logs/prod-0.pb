
ı


service.name

checkout

service.namespace
shop

service.version
2.4.1
(
service.instance.id
checkout-prod-0
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
ip-10-1-0-0.internalw
!
opentelemetry.sdk._logs0.48b0R	INFO*
order placed2

event.name
order.placedJÁƒkª‡Å=iäÿ5W)RÛÄ®RªV?ó