terraform {
  required_providers {
    hss = {
      source = "local/hss"
    }
  }
}

# Credentials are best left where Huawei Cloud tools already look for them: the environment
#   export HW_ACCESS_KEY=...   HW_SECRET_KEY=...      (or HW_AUTH_TOKEN=... for an IAM token)
# or the KooCLI profile file (~/.hcloud/config.json). The project ID is looked up through IAM
# from the region when neither project_id nor HW_PROJECT_ID sets it.
provider "hss" {
  region = "ap-southeast-1"

  # Every read of this run shares these limits, however many hosts a for_each reads.
  max_concurrent_requests = 8
  max_retries             = 5

  # To test offline against the bundled simulator (see the README), point the endpoint at it:
  #   export HW_HSS_ENDPOINT=http://127.0.0.1:8080
}

data "hss_host_ports" "example" {
  host_id = "dd91cd32-a238-4c0e-bc01-3b11653714ac"
}

output "port_count" {
  value = data.hss_host_ports.example.total_num
}
