def test_import_batches_are_listed_in_the_admin(client, admin_user):
    client.force_login(admin_user)
    assert client.get("/admin/core/importbatch/").status_code == 200
