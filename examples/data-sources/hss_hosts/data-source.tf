terraform {
  required_providers {
    hss = {
      source = "local/hss"
    }
  }
}

provider "hss" {}

# Every Linux server of the default enterprise project whose agent is not online.
data "hss_hosts" "unreachable" {
  os_type      = "Linux"
  agent_status = "not_online"
}

output "unreachable" {
  value = [for h in data.hss_hosts.unreachable.hosts : "${h.host_name} (${h.private_ip}): ${h.agent_status}"]
}

# `ids` is sorted and ready for for_each.
output "unreachable_ids" {
  value = data.hss_hosts.unreachable.ids
}
