"""Answers of the upload endpoints (media ids and URLs) and of the bill requests (where to download a bill,
and the hash to check it with). Each endpoint registers its spec here, so ``response.parsed`` works.

From the conformance schemas of each endpoint; the brand upload's answer (``image_url``) from the brand
API's published sample code.
"""

from __future__ import annotations

import attrs

from ._registry import EndpointSpec, register

__all__ = [
    "BankPackageTask",
    "BillDownload",
    "EncryptedBill",
    "EncryptedBillList",
    "FapiaoMediaId",
    "FileId",
    "ImageUrl",
    "MediaId",
    "MediaUrl",
    "ShoppingReceipt",
    "ShoppingReceiptUpload",
]


@attrs.frozen(kw_only=True)
class MediaId:
    """An uploaded file's id, to quote in later requests (merchant media, complaint images…)."""

    media_id: str


@attrs.frozen(kw_only=True)
class MediaUrl:
    """An uploaded marketing image's URL, for coupons' image fields (busifavor, favor, product coupons)."""

    media_url: str


@attrs.frozen(kw_only=True)
class ImageUrl:
    """An image uploaded through the brand API: the URL product coupons' display_info accepts."""

    image_url: str


@attrs.frozen(kw_only=True)
class FileId:
    """An uploaded document's id."""

    file_id: str


@attrs.frozen(kw_only=True)
class FapiaoMediaId:
    """An uploaded fapiao (PDF/OFD) file's id."""

    fapiao_media_id: str


@attrs.frozen(kw_only=True)
class ShoppingReceipt:
    """An uploaded shopping receipt and its review state."""

    receipt_id: str
    state: str
    transaction_id: str
    openid: str
    sha256: str
    image_type: str
    create_time: str
    modify_time: str
    transaction_mchid: str | None = None
    transaction_sub_mchid: str | None = None
    brand_id: int | None = None
    upload_time: str | None = None


@attrs.frozen(kw_only=True)
class ShoppingReceiptUpload:
    receipt: ShoppingReceipt


@attrs.frozen(kw_only=True)
class BankPackageTask:
    """The import task a file of bank agreement numbers started (收款有礼 number packages)."""

    task_id: str
    package_id: str
    filename: str
    create_time: str
    update_time: str | None = None
    status: str | None = None
    success_count: int | None = None
    fail_count: int | None = None
    success_user_count: int | None = None
    bank_type: str | None = None


@attrs.frozen(kw_only=True)
class BillDownload:
    """Where to fetch a bill and the hash of its plain file: pass it to ``client.download()``."""

    hash_type: str
    hash_value: str
    download_url: str


@attrs.frozen(kw_only=True)
class EncryptedBill:
    """One file of an encrypted bill: ``encrypt_key`` is its AES-256 key, RSA-OAEP encrypted for the merchant."""

    bill_sequence: int
    download_url: str
    encrypt_key: str = attrs.field(repr=False)
    hash_type: str
    hash_value: str
    nonce: str


@attrs.frozen(kw_only=True)
class EncryptedBillList:
    """An encrypted bill in one or more files: download each and join them in ``bill_sequence`` order."""

    download_bill_count: int
    download_bill_list: list[EncryptedBill] | None = None


_ANSWERS: dict[str, type] = {
    "v3/merchant/media/upload": MediaId,
    "v3/merchant/media/video_upload": MediaId,
    "v3/merchant-service/images/upload": MediaId,
    "v3/global/merchant-service/images/upload": MediaId,
    "v3/ecommerce/account/cancel-applications/media": MediaId,
    "v3/marketing/favor/media/image-upload": MediaUrl,
    "v3/marketing/partner/product-coupon/media/upload-image": MediaUrl,
    "brand/marketing/product-coupon/media/upload-image": ImageUrl,
    "v3/global/merchant-storage/file/upload": FileId,
    "v3/mch-manage/submission-files/sub-mchid/{sub_mchid}/upload": FileId,
    "v3/mch-operation-manage/enhanced-due-diligence/{due_diligence_id}/upload": FileId,
    "v3/new-tax-control-fapiao/fapiao-applications/upload-fapiao-file": FapiaoMediaId,
    "v3/taxi-invoice/cards/upload-file": FapiaoMediaId,
    "v3/marketing/shopping-receipt/shoppingreceipts": ShoppingReceiptUpload,
    "v3/marketing/bank/packages/{package_id}/tasks": BankPackageTask,
}
_BILLS: dict[str, type] = {
    "v3/bill/tradebill": BillDownload,
    "v3/bill/fundflowbill": BillDownload,
    "v3/profitsharing/bills": BillDownload,
    "v3/merchant/fund/withdraw/bill-type/{bill_type}": BillDownload,
    "v3/bill/sub-merchant-fundflowbill": EncryptedBillList,
    "v3/ecommerce/bill/fundflowbill": EncryptedBillList,
}

for _template, _model in _ANSWERS.items():
    register(EndpointSpec("POST", _template, response=_model))
for _template, _model in _BILLS.items():
    register(EndpointSpec("GET", _template, response=_model))
del _template, _model
