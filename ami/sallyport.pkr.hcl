# Amazon Linux 2023 image with sallyport on port 22 (docs/packaging.md).
#
#   packer init ami/
#   packer build -var region=eu-west-1 -var vpc_id=vpc-... -var subnet_id=subnet-... \
#     -var rpm_source=target/sallyport-0.1.0-1.noarch.rpm ami/
#
# The build instance must be reachable over SSH from where Packer runs (a public subnet with
# associate_public_ip_address, or a VPN). Plugin requirements are in plugins.pkr.hcl.

variable "region" {
  type        = string
  default     = "us-east-1"
  description = "AWS region to build the AMI in."
}

variable "vpc_id" {
  type        = string
  description = "VPC of the temporary build instance."
}

variable "subnet_id" {
  type        = string
  description = "Subnet of the temporary build instance."
}

variable "rpm_source" {
  type        = string
  description = "Path of the sallyport RPM on the machine running Packer (mvn verify writes it to target/)."
}

variable "ssh_mode" {
  type        = string
  default     = "move"
  description = "What happens to the OS's own OpenSSH, which must leave port 22: 'move' it to os_sshd_port, or 'disable' it (and mask it) in favour of SSM Session Manager."

  validation {
    condition     = var.ssh_mode == "move" || var.ssh_mode == "disable"
    error_message = "The ssh_mode value must be \"move\" or \"disable\"."
  }
}

variable "os_sshd_port" {
  type        = number
  default     = 2222
  description = "Port of the OS's OpenSSH when ssh_mode is 'move'. Open it only to administrators."
}

variable "arch" {
  type        = string
  default     = "x86_64"
  description = "x86_64 or arm64 (Graviton; use a t4g/m7g instance_type)."

  validation {
    condition     = var.arch == "x86_64" || var.arch == "arm64"
    error_message = "The arch value must be \"x86_64\" or \"arm64\"."
  }
}

variable "instance_type" {
  type        = string
  default     = "t3.small"
  description = "Type of the temporary build instance (not of the instances launched later)."
}

variable "associate_public_ip_address" {
  type        = bool
  default     = true
  description = "Give the build instance a public IP, so Packer can reach it over SSH."
}

variable "ami_name_prefix" {
  type    = string
  default = "sallyport"
}

variable "encrypt_boot" {
  type        = bool
  default     = true
  description = "Encrypt the AMI's snapshot (with the account's default EBS key, which cannot be shared with other accounts)."
}

locals {
  build_time = formatdate("YYYYMMDD-hhmmss", timestamp())
}

source "amazon-ebs" "al2023" {
  region                      = var.region
  vpc_id                      = var.vpc_id
  subnet_id                   = var.subnet_id
  instance_type               = var.instance_type
  associate_public_ip_address = var.associate_public_ip_address

  source_ami_filter {
    filters = {
      # The standard AL2023 image (not "minimal"), any kernel line, this architecture.
      name                = "al2023-ami-2023.*-kernel-*-${var.arch}"
      architecture        = var.arch
      virtualization-type = "hvm"
      root-device-type    = "ebs"
    }
    owners      = ["amazon"]
    most_recent = true
  }

  ssh_username = "ec2-user"
  ssh_timeout  = "10m"

  ami_name        = "${var.ami_name_prefix}-${local.build_time}-${var.arch}"
  ami_description = "sallyport SSH jump server on Amazon Linux 2023 (OS sshd: ${var.ssh_mode})"
  encrypt_boot    = var.encrypt_boot

  tags = {
    Name               = "${var.ami_name_prefix}-${local.build_time}-${var.arch}"
    "sallyport:ssh"    = var.ssh_mode
    "sallyport:source" = "packer"
  }
  run_tags = {
    Name = "packer-build-${var.ami_name_prefix}"
  }
}

build {
  sources = ["source.amazon-ebs.al2023"]

  provisioner "file" {
    source      = var.rpm_source
    destination = "/tmp/sallyport.rpm"
  }

  provisioner "shell" {
    execute_command = "chmod +x {{ .Path }}; sudo env {{ .Vars }} {{ .Path }}"
    environment_vars = [
      "SALLYPORT_RPM=/tmp/sallyport.rpm",
      "SSH_MODE=${var.ssh_mode}",
      "OS_SSHD_PORT=${var.os_sshd_port}",
    ]
    # In this order: the smoke test starts sallyport under its real unit while the OS's sshd
    # still has port 22 and this build's SSH session; cleanup comes last.
    scripts = [
      "${path.root}/scripts/install-sallyport.sh",
      "${path.root}/scripts/smoke-test.sh",
      "${path.root}/scripts/configure-os-sshd.sh",
      "${path.root}/scripts/cleanup.sh",
    ]
  }

  post-processor "manifest" {
    output     = "packer-manifest.json"
    strip_path = true
  }
}
