# The same fleet check server by server, for comparison with examples/fleet-drift: hss_hosts
# lists the servers, then one hss_host_port_drift per server reads its open ports. That is at
# least one request per server (1,000 servers: 1,000 requests or more), where the fleet check
# takes a handful. Use this shape when each server needs its own policy.

terraform {
  required_providers {
    hss = {
      source = "local/hss"
    }
  }
}

provider "hss" {}

variable "allowed" {
  type        = list(string)
  description = "What each server may listen on."
  default     = ["22/tcp", "80/tcp", "443/tcp", "68/udp", "123/udp", "*@loopback", "1024-39999"]
}

# Only servers whose agent is online report their ports.
data "hss_hosts" "online" {
  agent_status = "online"
}

data "hss_host_port_drift" "each" {
  for_each = toset(data.hss_hosts.online.ids)
  host_id  = each.key
  allowed  = var.allowed
}

output "servers_checked" {
  value = length(data.hss_host_port_drift.each)
}

output "servers_in_violation" {
  value = sort([for id, check in data.hss_host_port_drift.each : id if !check.in_policy])
}
