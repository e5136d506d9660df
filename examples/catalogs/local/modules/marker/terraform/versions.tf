terraform {
  # terraform_data is built in: no provider to require.
  required_version = ">= 1.6.0"
}
