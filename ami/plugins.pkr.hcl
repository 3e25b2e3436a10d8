# Plugin requirements, kept apart from the build template: `required_plugins` needs Packer 1.7
# or later, and with it here `packer validate sallyport.pkr.hcl` also works on older Packer
# (1.6, which has amazon-ebs built in). With a current Packer, use the whole directory:
#
#   packer init ami/ && packer build -var-file=my.pkrvars.hcl ami/
packer {
  required_version = ">= 1.7.0"
  required_plugins {
    amazon = {
      source  = "github.com/hashicorp/amazon"
      version = ">= 1.2.0"
    }
  }
}
