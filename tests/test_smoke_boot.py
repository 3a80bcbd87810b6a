from tests.support.pages import html


def test_start_page_renders_with_skip_link_and_main(client):
    response = client.get("/")
    assert response.status_code == 200
    page = html(response)
    assert page.css_first("a.skip-link").attributes["href"] == "#main-content"
    assert page.css_first("main#main-content") is not None
