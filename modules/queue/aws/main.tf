locals {
  suffix   = var.fifo ? ".fifo" : ""
  use_kms  = var.kms_master_key_id != null
  sqs_sse  = local.use_kms ? null : var.sqs_managed_sse_enabled
  kms_key  = local.use_kms ? var.kms_master_key_id : null
  kms_ttl  = local.use_kms ? 300 : null
  dlq_name = "${var.name}-dlq${local.suffix}"
}

resource "aws_sqs_queue" "dlq" {
  name                              = local.dlq_name
  fifo_queue                        = var.fifo
  message_retention_seconds         = 1209600
  sqs_managed_sse_enabled           = local.sqs_sse
  kms_master_key_id                 = local.kms_key
  kms_data_key_reuse_period_seconds = local.kms_ttl
  tags                              = var.tags

  lifecycle {
    precondition {
      condition     = local.use_kms || var.sqs_managed_sse_enabled
      error_message = "Queues are always encrypted (guardrail queue.encryption): set kms_master_key_id or keep sqs_managed_sse_enabled."
    }
  }
}

resource "aws_sqs_queue" "this" {
  name                              = "${var.name}${local.suffix}"
  fifo_queue                        = var.fifo
  message_retention_seconds         = var.message_retention_seconds
  sqs_managed_sse_enabled           = local.sqs_sse
  kms_master_key_id                 = local.kms_key
  kms_data_key_reuse_period_seconds = local.kms_ttl
  tags                              = var.tags

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq.arn
    maxReceiveCount     = var.max_receive_count
  })
}

resource "aws_sqs_queue_redrive_allow_policy" "dlq" {
  queue_url = aws_sqs_queue.dlq.id

  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.this.arn]
  })
}
